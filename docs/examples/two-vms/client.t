# The client guest (guest 2, 10.0.3.12): waits at the barrier "serving" until the server
# listens, fetches its tag over the private network, then meets it at "fetched". Each wget is
# bounded by busybox `timeout` (busybox-static 1.35's `wget -T` segfaults).
echo 1..3
if sync-barrier -t 300 serving; then echo "ok 1 - the server is serving"; else echo "not ok 1 - barrier serving (exit $?)"; fi
got=
i=0
while [ $i -lt 5 ] && ! got=$(timeout 10 wget -q -O - http://10.0.3.11/tag.txt); do sleep 2; i=$((i + 1)); done
case $got in
    "tag "?*) echo "ok 2 - fetched from 10.0.3.11: $got" ;;
    *) echo "not ok 2 - nothing from 10.0.3.11" ;;
esac
if sync-barrier -t 300 fetched; then echo "ok 3 - barrier fetched"; else echo "not ok 3 - barrier fetched (exit $?)"; fi
