#!/bin/sh
# Sync helpers: a guest of a run of several guests meets the others through the host's Sync
# plug-in (docs/sync.md). One POSIX sh file, several commands: call it by a command's name (a
# link, as the images install it) or as `sync-helpers.sh COMMAND ...`.
#
#   sync-barrier [-n COUNT | -r ROLE] [-t SECONDS] NAME   wait until every party arrives (lava-sync)
#   sync-set [-s] STATE                                   this guest reached STATE (rhts-sync-set)
#   sync-block -s STATE [-t SECONDS] GUEST...              wait until each GUEST set STATE (rhts-sync-block)
#   sync-lock [-t SECONDS] NAME / sync-unlock NAME         a mutex (openQA's mutex_lock/mutex_unlock)
#   sync-event-send NAME [KEY=VALUE... | -]               set an event, JSON from the pairs or stdin (lava-send)
#   sync-event-wait [-f GUEST] [-t SECONDS] NAME          wait for an event, print its JSON (lava-wait)
#   sync-status / sync-whoami                             the host's sync state / this guest's name
#
# Exit status: 0 done; 2 the wait timed out (408); 3 a peer it waited for is gone (410);
# 1 refused (another 4xx: the host's line says why); 4 no host reachable; 64 bad usage.
#
# The host: SUPPORT_HOST_URL (with its /t/TOKEN), else the injector's image.conf server_uri;
# SUPPORT_HOST_TOKEN is sent as a bearer token when the URL carries none. HTTP through curl,
# else perl's HTTP::Tiny (the qemu images). A lost connection or a host being taken over
# (`run --resume`) is retried with the same X-Request-Id for SYNC_RETRY_FOR seconds (600), so a
# retried arrival is the same arrival and an answer already given is given again.

set -u

PROG=$(basename "$0")
case $PROG in
    sync-helpers.sh | sync-helpers | support-sync)
        [ $# -gt 0 ] || { echo "usage: $PROG COMMAND ARGS (see the top of this file)" >&2; exit 64; }
        PROG=sync-$1
        shift
        ;;
esac
COMMAND=${PROG#sync-}

say() { echo "$PROG: $*" >&2; }
usage() { say "usage: $*"; exit 64; }
have() { command -v "$1" >/dev/null 2>&1; }

# --- where the host is ---

URL=${SUPPORT_HOST_URL:-}
if [ -z "$URL" ]; then
    for conf in ${PITA_INJECTOR:+$PITA_INJECTOR/image.conf} /mnt/injector/image.conf /injector/image.conf; do
        [ -f "$conf" ] || continue
        URL=$(awk -F= '/^[ \t]*server_uri[ \t]*=/ { sub(/^[^=]*=[ \t]*/, ""); sub(/[ \t\r]+$/, ""); print; exit }' "$conf")
        [ -n "$URL" ] && break
    done
fi
[ -n "$URL" ] || { say "no host: set SUPPORT_HOST_URL"; exit 4; }
URL=${URL%/}
AUTH=
case $URL in */t/*) ;; *) [ -n "${SUPPORT_HOST_TOKEN:-}" ] && AUTH="Authorization: Bearer $SUPPORT_HOST_TOKEN" ;; esac

TRANSPORT=${SYNC_TRANSPORT:-}  # curl or perl; by default the first there is
if [ -n "$TRANSPORT" ]; then
    :
elif have curl; then
    TRANSPORT=curl
elif have perl && perl -MHTTP::Tiny -e 1 2>/dev/null; then
    TRANSPORT=perl
else
    say "neither curl nor perl's HTTP::Tiny to talk to the host with"
    exit 4
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sync-helpers.XXXXXX") || { say "cannot make a temporary directory"; exit 4; }
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

request_id() {
    if [ -r /proc/sys/kernel/random/uuid ]; then
        echo "$PROG-$(cat /proc/sys/kernel/random/uuid)"
    else
        echo "$PROG-$(date +%s)-$$-$(awk 'BEGIN { srand(); print int(rand() * 1000000000) }')"
    fi
}

# One attempt: METHOD PATH BODYFILE ID → STATUS (000 when no answer came), the body in
# $WORK/body, the header lines in $WORK/headers.
attempt() {
    : > "$WORK/body"
    : > "$WORK/headers"
    if [ "$TRANSPORT" = curl ]; then
        method=$1 path=$2 file=$3 id=$4
        set -- -sS -X "$method" -H "X-Request-Id: $id" -D "$WORK/headers" -o "$WORK/body" -w '%{http_code}'
        [ -n "$AUTH" ] && set -- "$@" -H "$AUTH"
        [ "$method" = GET ] || set -- "$@" -H "Content-Type: application/json" --data-binary @"$file"
        STATUS=$(curl "$@" "$URL$path" 2>"$WORK/error")
        # Only a connection that failed or broke is worth retrying (a bad URL is not).
        case $? in 0 | 7 | 28 | 52 | 55 | 56) ;; *) say "curl: $(cat "$WORK/error")"; exit 4 ;; esac
        [ -n "$STATUS" ] || STATUS=000
    else
        STATUS=$(perl -MHTTP::Tiny -e '
            my ($method, $url, $file, $id, $auth, $body_out, $headers_out) = @ARGV;
            open my $in, "<:raw", $file or die "$file: $!\n";
            my $content = do { local $/; <$in> };
            my %headers = ("X-Request-Id" => $id, "Content-Type" => "application/json");
            if ($auth ne "") { my ($name, $value) = split /: /, $auth, 2; $headers{$name} = $value }
            # No client timeout shorter than the host'"'"'s: the host ends every wait itself.
            my $answer = HTTP::Tiny->new(timeout => 90000)->request($method, $url, { content => $content, headers => \%headers });
            my $status = $answer->{status} == 599 ? "000" : $answer->{status};
            open my $out, ">:raw", $body_out or die; print $out $answer->{content} if $status ne "000"; close $out;
            open my $h, ">", $headers_out or die;
            for my $k (keys %{ $answer->{headers} }) { print $h "$k: $answer->{headers}{$k}\n" }
            close $h;
            print STDERR $answer->{content} if $status eq "000";
            print $status;' "$1" "$URL$2" "$3" "$4" "$AUTH" "$WORK/body" "$WORK/headers" 2>"$WORK/error")
    fi
}

# request METHOD PATH [BODYFILE]: retries what may come right with the same X-Request-Id —
# no answer (a lost connection, a host being taken over), 5xx, and the host's 409 "still being
# handled" (the first attempt still waits in the host; its answer is given to the retry).
request() {
    body=${3:-/dev/null}
    id=$(request_id)
    deadline=$(( $(date +%s) + ${SYNC_RETRY_FOR:-600} ))
    while :; do
        attempt "$1" "$2" "$body" "$id"
        case $STATUS in
            000 | 5??) retry="$STATUS $(cat "$WORK/error" "$WORK/body" 2>/dev/null | head -c 200 | tr '\n' ' ')" ;;
            409) grep -q 'is still being handled' "$WORK/body" || return 0
                 retry="the first attempt is still waiting in the host" ;;
            *) return 0 ;;
        esac
        [ "$(date +%s)" -lt "$deadline" ] || { say "no answer from $URL for ${SYNC_RETRY_FOR:-600} s (last: $retry)"; exit 4; }
        sleep 1
    done
}

header() { awk -v want="$1" 'BEGIN { want = tolower(want) } { at = index($0, ":"); if (tolower(substr($0, 1, at - 1)) == want) { v = substr($0, at + 1); sub(/^[ \t]+/, "", v); sub(/[ \t\r]+$/, "", v); print v; exit } }' "$WORK/headers"; }

# Ends with the exit status the answer means; prints the host's line (or, for an event, its body).
finish() {
    case $STATUS in
        2??)
            died=$(header X-Sync-Previous-Owner-Died)
            [ -n "$died" ] && say "note: the previous owner, $died, died holding it"
            cat "$WORK/body"
            exit 0 ;;
        408) say "$(cat "$WORK/body")"; exit 2 ;;
        410) say "$(cat "$WORK/body")"; exit 3 ;;
        *) say "refused ($STATUS): $(cat "$WORK/body")"; exit 1 ;;
    esac
}

query() { # appends KEY=VALUE to $QUERY when VALUE is set
    [ -n "$2" ] || return 0
    QUERY="${QUERY:+$QUERY&}$1=$2"
}

# The host's rule for names (barriers, mutexes, events, states, guests, roles), checked here so
# a bad one is a usage error rather than a request the host cannot even read.
check_name() {
    case $1 in
        "" | .* | *[!A-Za-z0-9._-]*) usage "'$1' is not a sync name: 1 to 64 of A-Z a-z 0-9 . _ - (not starting with .)" ;;
    esac
    [ ${#1} -le 64 ] || usage "'$1' is longer than 64 characters"
}

json_string() { printf '"%s"' "$(printf '%s' "$1" | tr -d '\000-\037' | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')"; }

TIMEOUT= COUNT= ROLE= STATE= FROM= QUERY=
while getopts "t:n:r:s:f:" option; do
    case $option in
        t) TIMEOUT=$OPTARG ;;
        n) COUNT=$OPTARG ;;
        r) ROLE=$OPTARG ;;
        s) STATE=$OPTARG ;;
        f) FROM=$OPTARG ;;
        *) usage "$PROG [options] ARGS (see the top of sync-helpers.sh)" ;;
    esac
done
shift $((OPTIND - 1))
query timeout "$TIMEOUT"
for name in "$@" ${ROLE:+"$ROLE"} ${STATE:+"$STATE"} ${FROM:+"$FROM"}; do
    case $COMMAND in event-send) check_name "$name"; break ;; esac
    check_name "$name"
done

case $COMMAND in
    barrier)
        [ $# -eq 1 ] || usage "sync-barrier [-n COUNT | -r ROLE] [-t SECONDS] NAME"
        query count "$COUNT"
        query role "$ROLE"
        request POST "/sync/barrier/$1${QUERY:+?$QUERY}"
        finish ;;
    set)
        [ -n "$STATE" ] || { STATE=${1:-}; [ $# -gt 0 ] && shift; }
        [ -n "$STATE" ] && [ $# -eq 0 ] || usage "sync-set [-s] STATE"
        request GET /sync/whoami
        [ "$STATUS" = 200 ] || finish
        me=$(cat "$WORK/body")
        request POST "/sync/event/$STATE.$me"
        finish ;;
    block)
        [ -n "$STATE" ] && [ $# -gt 0 ] || usage "sync-block -s STATE [-t SECONDS] GUEST..."
        for guest in "$@"; do
            QUERY=
            query from "$guest"
            query timeout "$TIMEOUT"
            request POST "/sync/event/$STATE.$guest/wait?$QUERY"
            [ "$STATUS" = 200 ] || finish
            echo "$guest reached $STATE"
        done
        exit 0 ;;
    lock | unlock)
        [ $# -eq 1 ] || usage "sync-$COMMAND [-t SECONDS] NAME"
        [ "$COMMAND" = lock ] || QUERY=
        request POST "/sync/mutex/$1/$COMMAND${QUERY:+?$QUERY}"
        finish ;;
    event-send)
        [ $# -ge 1 ] || usage "sync-event-send NAME [KEY=VALUE... | -]"
        name=$1
        shift
        if [ "${1:-}" = - ]; then
            cat > "$WORK/send"
        else
            { printf '{'; separator=
              for pair in "$@"; do
                  case $pair in *=*) ;; *) usage "sync-event-send NAME [KEY=VALUE... | -]: '$pair' is no KEY=VALUE" ;; esac
                  printf '%s%s:%s' "$separator" "$(json_string "${pair%%=*}")" "$(json_string "${pair#*=}")"
                  separator=,
              done
              printf '}'; } > "$WORK/send"
        fi
        request POST "/sync/event/$name" "$WORK/send"
        finish ;;
    event-wait)
        [ $# -eq 1 ] || usage "sync-event-wait [-f GUEST] [-t SECONDS] NAME"
        query from "$FROM"
        request POST "/sync/event/$1/wait${QUERY:+?$QUERY}"
        finish ;;
    status)
        request GET /sync/status
        finish ;;
    whoami)
        request GET /sync/whoami
        finish ;;
    *)
        say "unknown command '$COMMAND': barrier, set, block, lock, unlock, event-send, event-wait, status, whoami"
        exit 64 ;;
esac
