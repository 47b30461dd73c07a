# The server guest (guest 1, so 10.0.3.11 on the private network): serves a random tag with
# busybox httpd, then meets the client at two barriers: "serving" (the client may fetch now)
# and "fetched" (the client is done; this VM may power off). TAP on stdout.
echo 1..3
tag=$(cat /proc/sys/kernel/random/uuid)
mkdir -p /tmp/www
echo "tag $tag" > /tmp/www/tag.txt
echo "# serving: tag $tag"
if httpd -p 10.0.3.11:80 -h /tmp/www; then echo "ok 1 - httpd on 10.0.3.11:80"; else echo "not ok 1 - httpd on 10.0.3.11:80"; fi
if sync-barrier -t 300 serving; then echo "ok 2 - barrier serving"; else echo "not ok 2 - barrier serving (exit $?)"; fi
if sync-barrier -t 300 fetched; then echo "ok 3 - the client fetched"; else echo "not ok 3 - barrier fetched (exit $?)"; fi
