#!/bin/sh
# The reference image manager: runs inside a guest (or as a plain process for --guest local),
# reads image.conf from the injector, pings the support server, runs the task (Ping, Discover,
# Test), uploads what it found, then powers the machine off (--poweroff) or exits.
# POSIX sh: works in busybox ash, dash and bash. Needs awk, sed, tr; curl, or perl's HTTP::Tiny
# and busybox wget, or busybox nc and wget.
#
#   image-manager.sh [--injector DIR] [--workarea DIR] [--poweroff]
#
# The format of image.conf is in docs/injector.md.

set -u

INJECTOR=${PITA_INJECTOR:-}
WORKAREA=
POWEROFF=no
while [ $# -gt 0 ]; do
    case $1 in
        --injector) INJECTOR=$2; shift 2 ;;
        --workarea) WORKAREA=$2; shift 2 ;;
        --poweroff) POWEROFF=yes; shift ;;
        *) echo "image-manager: unknown argument $1" >&2; exit 64 ;;
    esac
done

say() { echo "image-manager: $*" >&2; }

# Without --workarea, a work area of its own, removed at the end: files left in /tmp by every
# run add up (the caller of --workarea owns that directory).
if [ -z "$WORKAREA" ]; then
    WORKAREA=$(mktemp -d "${TMPDIR:-/tmp}/image-manager.XXXXXX") || { say "error: cannot make a work area"; exit 70; }
    OWN_WORKAREA=$WORKAREA
    trap 'rm -rf "$OWN_WORKAREA"' EXIT
    trap 'exit 143' TERM
    trap 'exit 130' INT
fi

finish() {
    status=$1
    if [ "$POWEROFF" = yes ]; then
        [ -n "${OWN_WORKAREA:-}" ] && rm -rf "$OWN_WORKAREA"
        say "done (status $status); powering off"
        sync
        poweroff -f
        sleep 10
    fi
    exit "$status"
}

die() { say "error: $*"; finish 1; }

have() { command -v "$1" >/dev/null 2>&1; }

# --- image.conf (Config::Tiny: "[section]", "key=value", root keys in section "_") ---

if [ -z "$INJECTOR" ]; then
    for candidate in /mnt/injector /injector /media/cdrom /mnt/cdrom; do
        if [ -f "$candidate/image.conf" ]; then INJECTOR=$candidate; break; fi
    done
fi
CONF=$INJECTOR/image.conf
[ -n "$INJECTOR" ] && [ -f "$CONF" ] || die "no image.conf (give --injector DIR)"

conf_get() {
    awk -v want_section="$1" -v want_key="$2" '
        BEGIN { section = "_" }
        /^[ \t]*([#;]|$)/ { next }
        /^[ \t]*\[.*\][ \t]*$/ {
            section = $0
            sub(/^[ \t]*\[[ \t]*/, "", section); sub(/[ \t]*\][ \t]*$/, "", section)
            next
        }
        {
            at = index($0, "="); if (at == 0) next
            key = substr($0, 1, at - 1); value = substr($0, at + 1)
            gsub(/^[ \t]+|[ \t]+$/, "", key); gsub(/^[ \t]+|[ \t]+$/, "", value)
            if (section == want_section && key == want_key) { print value; exit }
        }' "$CONF"
}

SERVER=$(conf_get _ server_uri)
TASK=$(conf_get task task)
JOB_ID=$(conf_get task job_id)
SCHEME=$(conf_get task scheme)
SCHEME_PATH=$(conf_get task path)
FILENAME=$(conf_get task filename)
MIRROR_PATH=$(conf_get task mirror_path)
CPAN_MIRROR=$(conf_get task cpan_mirror)
LINGER=$(conf_get task linger)
[ -n "$SERVER" ] || die "image.conf has no server_uri"
[ -n "$TASK" ] || die "image.conf has no [task] task"
SERVER=${SERVER%/}
: "${JOB_ID:=1}"

# --- HTTP: curl where present, else busybox wget (GET) and a raw request through nc (PUT) ---

rest=${SERVER#http://}
HOSTPORT=${rest%%/*}
case $rest in */*) BASE_PATH=/${rest#*/} ;; *) BASE_PATH= ;; esac
BASE_PATH=${BASE_PATH%/}
HOST=${HOSTPORT%:*}
case $HOSTPORT in *:*) PORT=${HOSTPORT##*:} ;; *) PORT=80 ;; esac

BOOT_ID=
[ -r /proc/sys/kernel/random/boot_id ] && BOOT_ID=$(cat /proc/sys/kernel/random/boot_id)

NC=
if have nc; then NC=nc; elif have busybox; then NC="busybox nc"; fi
# yes when PUTs go through perl's HTTP::Tiny (http_put); decided after the ping.
PERL_HTTP=no

# http_get PATH OUTFILE [HEADER]
http_get() {
    if have curl; then
        if [ -n "${3:-}" ]; then curl -fsS -H "$3" -o "$2" "$SERVER$1"; else curl -fsS -o "$2" "$SERVER$1"; fi
    elif have wget; then
        if [ -n "${3:-}" ]; then wget -q --header "$3" -O "$2" "$SERVER$1"; else wget -q -O "$2" "$SERVER$1"; fi
    else
        say "neither curl nor wget"; return 1
    fi
}

# http_put FILE PATH CONTENT_TYPE
http_put() {
    if have curl; then
        curl -fsS -T "$1" -H "Content-Type: $3" "$SERVER$2" >/dev/null
        return
    fi
    # perl's HTTP::Tiny where there is perl (the qemu guests): it waits for the answer, where
    # busybox nc half-closes the connection at the end of its input, and the host may close
    # it before answering (the upload is then lost).
    if [ "$PERL_HTTP" = yes ]; then
        perl -MHTTP::Tiny -e '
            my ($file, $url, $type) = @ARGV;
            open my $in, "<:raw", $file or die "image-manager: $file: $!\n";
            my $body = do { local $/; <$in> };
            my $answer = HTTP::Tiny->new(timeout => 120)->request("PUT", $url, { content => $body, headers => { "Content-Type" => $type } });
            exit 0 if $answer->{success};
            print STDERR "image-manager: PUT answered: $answer->{status} $answer->{reason}\n";
            exit 1;' "$1" "$SERVER$2" "$3"
        return
    fi
    [ -n "$NC" ] || { say "neither curl nor nc to PUT with"; return 1; }
    length=$(wc -c < "$1" | tr -d ' ')
    answer=$WORKAREA/put-answer.$$
    {
        printf 'PUT %s%s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %s\r\nConnection: close\r\n\r\n' \
            "$BASE_PATH" "$2" "$HOSTPORT" "$3" "$length"
        cat "$1"
    } | $NC "$HOST" "$PORT" > "$answer"
    status_line=$(head -n 1 "$answer" | tr -d '\r')
    rm -f "$answer"
    case $status_line in
        "HTTP/1."[01]" 2"*) return 0 ;;
        *) say "PUT $2 answered: ${status_line:-nothing}"; return 1 ;;
    esac
}

# --- XML: escape text for element content and attribute values ---

xml_escape() {
    tr -d '\000-\010\013\014\016-\037' | sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e "s/'/\&apos;/g"
}

NS=http://ali.as/xml/schema/pita-xml/0.52

# The environment as <env> elements, leaving out anything that looks like a secret.
env_elements() {
    awk 'BEGIN {
        for (name in ENVIRON) {
            if (name ~ /^SUPPORT_HOST_/ || toupper(name) ~ /TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|_KEY$|^KEY$/) continue
            if (name !~ /^[A-Za-z_][A-Za-z0-9_]*$/) continue
            value = ENVIRON[name]
            gsub(/[\001-\010\013\014\016-\037]/, "", value)
            gsub(/&/, "\\&amp;", value); gsub(/</, "\\&lt;", value); gsub(/>/, "\\&gt;", value); gsub(/'"'"'/, "\\&apos;", value)
            printf "    <env name='"'"'%s'"'"'>%s</env>\n", name, value
        }
    }' | sort
}

config_element() {
    printf "    <config name='%s'>%s</config>\n" "$1" "$(printf '%s' "$2" | xml_escape)"
}

perl5_platform() {
    perl=${1:-/usr/bin/perl}
    [ -x "$perl" ] || return 0
    echo "  <platform>"
    echo "    <scheme>perl5</scheme>"
    echo "    <path>$perl</path>"
    env_elements
    "$perl" -MConfig -e '
        for my $key (qw(archname osname osvers version api_versionstring myarchname cc ccflags optimize
                        ld dlext so useithreads usemultiplicity use64bitint use64bitall byteorder intsize
                        ivsize nvsize ptrsize longsize perlpath installprivlib installarchlib sitelib
                        gccversion libc make sh startperl)) {
            my $value = defined $Config{$key} ? $Config{$key} : "";
            $value =~ s/[\x00-\x08\x0b\x0c\x0e-\x1f]//g;
            $value =~ s/&/&amp;/g; $value =~ s/</&lt;/g; $value =~ s/>/&gt;/g; $value =~ s/\x27/&apos;/g;
            print "    <config name=\x27$key\x27>$value</config>\n";
        }'
    echo "  </platform>"
}

sh_platform() {
    shell=${1:-/bin/sh}
    echo "  <platform>"
    echo "    <scheme>sh</scheme>"
    echo "    <path>$shell</path>"
    env_elements
    config_element kernel_name "$(uname -s)"
    config_element kernel_release "$(uname -r)"
    config_element kernel_version "$(uname -v)"
    config_element machine "$(uname -m)"
    config_element shell "$(readlink "$shell" 2>/dev/null || echo "$shell")"
    if have busybox; then config_element busybox "$(busybox 2>&1 | head -n 1)"; fi
    if ls --version >/dev/null 2>&1; then config_element coreutils "$(ls --version | head -n 1)"; fi
    echo "  </platform>"
}

discover() {
    document=$WORKAREA/discover.$$.xml
    {
        echo "<?xml version='1.0' encoding='UTF-8'?>"
        echo "<guest xmlns='$NS'>"
        perl5_platform /usr/bin/perl
        sh_platform /bin/sh
        echo "</guest>"
    } > "$document"
    http_put "$document" "/$JOB_ID" application/xml || die "could not upload the platforms"
    say "platforms sent to /$JOB_ID"
}

# Seconds since boot with hundredths, for step durations (busybox date has no %N).
now() { awk '{ print $1 }' /proc/uptime 2>/dev/null || date +%s; }

# Steps finished so far; each is also sent on its own as soon as it ends (to /JOB_ID/step/N,
# up to MAX_STEP_UPLOADS), so a run cut short by a hang still has every step before it.
STEP=0
MAX_STEP_UPLOADS=32

# run_step KIND NAME COMMAND... : runs a command in the build directory and appends its
# <command> or <test> element (stdout, stderr, exit code, duration) to the report body.
run_step() {
    kind=$1; name=$2; shift 2
    out=$WORKAREA/out.$$; err=$WORKAREA/err.$$; element=$WORKAREA/step.$$
    say "running: $*"
    began=$(now)
    "$@" > "$out" 2> "$err" < /dev/null
    code=$?
    took=$(awk -v a="$began" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
    say "step: $name: exit $code in $took s"
    {
        if [ "$kind" = command ]; then
            echo "    <command>"
            echo "      <cmd>$(printf '%s' "$name" | xml_escape)</cmd>"
        else
            echo "    <test language='text/x-tap' name='$(printf '%s' "$name" | xml_escape)'>"
        fi
        echo "      <stdout>$(xml_escape < "$out")</stdout>"
        echo "      <stderr>$(xml_escape < "$err")</stderr>"
        echo "      <exitcode>$code</exitcode>"
        echo "      <duration>$took</duration>"
        echo "    </$kind>"
    } > "$element"
    cat "$element"
    STEP=$((STEP + 1))
    [ "$STEP" -le "$MAX_STEP_UPLOADS" ] && send_step "$element"
    LAST_OUT=$(cat "$out" "$err" | tail -c 65536)
    rm -f "$out" "$err" "$element"
    return $code
}

# send_step FILE: the step as a report of its own, to /JOB_ID/step/N (best effort).
send_step() {
    doc=$WORKAREA/stepdoc.$$
    {
        echo "<?xml version='1.0' encoding='UTF-8'?>"
        echo "<report xmlns='$NS'><install>"
        cat "$1"
        echo "</install></report>"
    } > "$doc"
    http_put "$doc" "/$JOB_ID/step/$STEP" application/xml >/dev/null 2>&1 || say "could not send step $STEP"
    rm -f "$doc"
}

# grade GRADE REASON: the CPAN Testers grade of the test, as a <grade> element (an addition
# to PITA-XML 0.52; see docs/guests.md).
grade() {
    echo "    <grade reason='$(printf '%s' "$2" | tr '\n' ' ' | xml_escape)'>$1</grade>"
    say "grade: $1 ($2)"
}

# Makefile.PL or Build.PL saying it cannot run here: CPAN Testers' NA.
says_na() {
    printf '%s\n' "$LAST_OUT" | grep -Eiq 'OS unsupported|No support for OS|perl v?[0-9._]+ required|requires perl [0-9v]|this is only perl|Perl lib version .* doesn.t match'
}

# The Perl5::Make way (PITA::Scheme::Perl5::Make): unpack, dependencies from the run's CPAN
# mirror, Makefile.PL (or Build.PL), make, each test file on its own (its TAP in a <test>),
# make test. Prints the <command>, <test> and <grade> elements.
test_perl5() {
    LAST_OUT=
    if ! tar xzf "$1" 2>/dev/null; then
        grade UNKNOWN "$(basename "$1") is not a gzip'd tarball"; return 0
    fi
    top=$(tar tzf "$1" | head -n 1 | cut -d/ -f1)
    [ -n "$top" ] && [ -d "$top" ] && cd "$top" || { grade UNKNOWN "the tarball has no top directory"; return 0; }
    if [ -f Build.PL ] && [ ! -f Makefile.PL ]; then
        pl=Build.PL; build=./Build
    elif [ -f Makefile.PL ]; then
        pl=Makefile.PL; build=make
    else
        grade UNKNOWN "not a CPAN dist: $top has no Makefile.PL or Build.PL"; return 0
    fi
    perl=${SCHEME_PATH:-/usr/bin/perl}
    export PERL_AUTOINSTALL=--defaultdeps AUTOMATED_TESTING=1 PERL_MM_USE_DEFAULT=1 NONINTERACTIVE_TESTING=1
    # Dependencies go to a local::lib in the work area, never into the guest's (or, for
    # --guest local, this host's) perl.
    deps=$WORKAREA/deps.$$
    export PERL_CPANM_HOME=$WORKAREA/cpanm.$$ PERL5LIB=$deps/lib/perl5${PERL5LIB:+:$PERL5LIB}
    if [ -n "$CPAN_MIRROR" ]; then
        if ! run_step command "cpanm --installdeps ." cpanm --installdeps --notest --no-lwp --no-wget --no-curl \
            --mirror "$SERVER$CPAN_MIRROR" --mirror-only -L "$deps" .; then
            if says_na; then grade NA "a prerequisite cannot be met here (cpanm --installdeps)"
            else grade UNKNOWN "cpanm --installdeps failed: the dependencies could not be installed"; fi
            return 0
        fi
    fi
    if ! run_step command "perl $pl" "$perl" "$pl"; then
        if says_na; then grade NA "$pl says it cannot run here"; else grade FAIL "$pl failed"; fi
        return 0
    fi
    if [ ! -f Makefile ] && [ ! -f Build ]; then
        grade NA "$pl exited 0 without writing a Makefile (the toolchain's way to decline a platform)"; return 0
    fi
    if [ "$build" = make ]; then
        run_step command make make || { grade FAIL "make failed"; return 0; }
    else
        run_step command "$build" "$perl" Build || { grade FAIL "./Build failed"; return 0; }
    fi
    failed=
    count=0
    for t in t/*.t; do
        [ -f "$t" ] || continue
        count=$((count + 1))
        run_step test "$t" "$perl" -Mblib "$t" || failed="$failed $t"
    done
    if [ "$build" = make ]; then run_step command "make test" make test; else run_step command "./Build test" "$perl" Build test; fi
    suite=$?
    if [ "$count" -eq 0 ] && printf '%s\n' "$LAST_OUT" | grep -q 'No tests defined'; then
        grade UNKNOWN "the dist has no tests"
    elif [ -n "$failed" ]; then
        grade FAIL "failing test files:$failed"
    elif [ "$suite" -ne 0 ]; then
        grade FAIL "the test suite failed (exit $suite)"
    else
        grade PASS "all $count test files passed"
    fi
    return 0
}

test_sh() {
    run_step test "$FILENAME" "${SCHEME_PATH:-/bin/sh}" "$1"
    return 0
}

test_task() {
    [ -n "$FILENAME" ] && [ -n "$MIRROR_PATH" ] || die "a Test task needs filename and mirror_path"
    build=$WORKAREA/build.$$
    mkdir -p "$build" && cd "$build" || die "cannot make $build"
    dist=$build/$(basename "$FILENAME")
    http_get "$MIRROR_PATH" "$dist" || die "could not fetch $MIRROR_PATH"
    body=$WORKAREA/body.$$
    case $SCHEME in
        perl5*) (test_perl5 "$dist") > "$body" ;;
        sh) (test_sh "$dist") > "$body" ;;
        *) die "unknown scheme '$SCHEME'" ;;
    esac
    report=$WORKAREA/report.$$.xml
    {
        echo "<?xml version='1.0' encoding='UTF-8'?>"
        echo "<report xmlns='$NS'>"
        echo "  <install>"
        echo "    <request scheme='$SCHEME' id='$JOB_ID'><file><filename>$(printf '%s' "$FILENAME" | xml_escape)</filename></file></request>"
        cat "$body"
        echo "  </install>"
        echo "</report>"
    } > "$report"
    http_put "$report" "/$JOB_ID" application/xml || die "could not upload the report"
    say "report sent to /$JOB_ID"
}

# --- the run ---

mkdir -p "$WORKAREA"
if [ -n "$BOOT_ID" ]; then
    http_get / /dev/null "X-Boot-Id: $BOOT_ID" || die "no answer from the support server at $HOSTPORT"
else
    http_get / /dev/null || die "no answer from the support server at $HOSTPORT"
fi
say "pinged $HOSTPORT; task $TASK"
# After the ping, not before it: perl's start under TCG (and, while the guest kernel's random
# pool is not ready, perl's wait for it) put ~0.6 s, and up to 2 s, into boot → ping.
if ! have curl && have perl && perl -MHTTP::Tiny -e 1 2>/dev/null; then PERL_HTTP=yes; fi

case $TASK in
    Ping) ;;
    Discover) discover ;;
    Test) test_task ;;
    *) die "unknown task '$TASK'" ;;
esac

if [ -n "$LINGER" ]; then
    say "lingering for $LINGER s"
    sleep "$LINGER"
fi
finish 0
