#!/bin/bash
# Real mail servers on loopback for libmail's integration tests.
#
#   tests/servers/servers.sh start|stop|status|restart
#
# Runs as root (Postfix insists). Installs nothing: when a package is
# missing it says which one (.ci/packages.txt lists them all). Everything
# lives under the run dir ${MAIL_TEST_RUNDIR:-/tmp/libmail-servers}:
#   ca.pem ca.key server.pem server.key   private CA + cert for localhost,
#                                         127.0.0.1 and ::1 (reused while valid)
#   mail/<user>/Maildir                   the users' mailboxes (kept across runs)
#   dovecot/ postfix/                     generated configs, queue, state
#   log/dovecot.log log/postfix.log       server logs
#   lmtp.sock                             Dovecot LMTP unix socket
#   servers.env                           written once every port answers,
#                                         removed by stop
#
# servers.env holds shell KEY=value lines; values never contain spaces or
# quotes, so a C test can split each line at the first '='. The ports below
# are the defaults; MAIL_TEST_PORT_OFFSET=N adds N to each. Variables:
#   MAIL_TEST_RUNDIR            the run dir
#   MAIL_TEST_HOST              127.0.0.1
#   MAIL_TEST_HOST6             ::1
#   MAIL_TEST_HOSTNAME          localhost (name in the server certificate)
#   MAIL_TEST_CA                CA certificate (PEM) that signed the servers' cert
#   MAIL_TEST_SERVER_CERT       the servers' certificate (PEM)
#   MAIL_TEST_DOMAIN            libmail.test (mail domain of every user)
#   MAIL_TEST_SMTP_PORT         12525  SMTP, STARTTLS offered, AUTH offered
#   MAIL_TEST_SMTPS_PORT        12465  SMTP over implicit TLS, AUTH
#   MAIL_TEST_SUBMISSION_PORT   12587  submission: STARTTLS required, then AUTH required
#   MAIL_TEST_IMAP_PORT         12143  IMAP (STARTTLS)
#   MAIL_TEST_IMAPS_PORT        12993  IMAP over implicit TLS
#   MAIL_TEST_POP3_PORT         12110  POP3 (STLS)
#   MAIL_TEST_POP3S_PORT        12995  POP3 over implicit TLS
#   MAIL_TEST_LMTP_PORT         12024  Dovecot LMTP over TCP
#   MAIL_TEST_LMTP_SOCKET       Dovecot LMTP unix socket path
#   MAIL_TEST_USER<n>, MAIL_TEST_PASS<n>, MAIL_TEST_ADDR<n>, MAIL_TEST_MAILDIR<n>
#       n=1 alice / alice-pw-1, n=2 bob / bob-pw-2,
#       n=3 cedric / pässwörd-€ (UTF-8, non-ASCII password),
#       n=4 quota / quota-pw (tiny quota: a large message fails over LMTP)
#       n=5 notify / notify-pw-5 (the one user with the mailbox list index,
#           so the one Dovecot offers NOTIFY to)
#   MAIL_TEST_QUOTA_USER, MAIL_TEST_QUOTA_PASS, MAIL_TEST_QUOTA_ADDR,
#   MAIL_TEST_QUOTA_MAILDIR     the same quota user under explicit names
#   MAIL_TEST_QUOTA_BYTES       10240, the quota user's storage limit
#   MAIL_TEST_OAUTH2_KEY        the base64 HS256 key Dovecot's oauth2 passdb
#                               validates JWTs with (OAUTHBEARER; the token's
#                               "sub" is the user)
#   MAIL_TEST_TOKEN_MECHS       OAUTHBEARER: the mechanisms Dovecot also offers
#                               that take a token, not a password (with the key)
#   MAIL_TEST_UTF8_ADDR         a UTF-8 address (cédric@libmail.test) that
#                               Postfix delivers (SMTPUTF8) into cedric's maildir
#   MAIL_TEST_UTF8_MAILDIR      that maildir
#   MAIL_TEST_SASL_MECHS        PLAIN,LOGIN,CRAM-MD5,SCRAM-SHA-1,SCRAM-SHA-256
#                               (offered by Dovecot IMAP/POP3 and by Postfix AUTH)
#   MAIL_TEST_MAX_MESSAGE_SIZE  52428800, Postfix's SIZE limit
#   MAIL_TEST_DOVECOT_LOG, MAIL_TEST_POSTFIX_LOG   the server logs
#   MAIL_TEST_NNTP_PORT         12119  INN (innd handing readers to nnrpd): STARTTLS
#                               offered, AUTHINFO USER (ckpasswd) offered
#   MAIL_TEST_NNTPS_PORT        12563  nnrpd over implicit TLS
#   MAIL_TEST_NNTP_GROUP        libmail.test, a local group anyone may read and
#                               logged-in users may post to (kept across runs)
#   MAIL_TEST_NNTP_EMPTY_GROUP  libmail.test.empty, never posted to
#   MAIL_TEST_NNTP_USER, MAIL_TEST_NNTP_PASS   alice / alice-pw-1 (ckpasswd file)
#   MAIL_TEST_NNTP_INNCONF      the private inn.conf (INNCONF=... for INN's tools)
#
# INN 2.7 (package inn2) runs from a private tree under $RUNDIR/inn, never
# as the system service: INNCONF points innd, nnrpd and makedbz at
# $RUNDIR/inn/etc/inn.conf, every path key leads into the tree (pathbin
# stays /usr/lib/news/bin), the tree belongs to news:news (innd is
# hard-wired to that user; started as root it drops privileges), and
# "timer: 1" makes innd act on SIGTERM within a second (else up to 600 s).
# innd and the implicit-TLS nnrpd are started with setsid, their PIDs kept
# in $RUNDIR/inn/innd.pid and nnrpd.pid, and stopped by signalling their
# process groups (the per-connection nnrpd children outlive innd). The TLS
# key must not be world-readable ("580 Error initializing TLS"). INN logs
# only to syslog (none here): run innd -d by hand to debug. Installing
# inn2 on a host whose name has no dot fails in its postinst ("hostname
# does not resolve or domain not set"); ./run then sets "domain:
# localdomain" in /etc/news/inn.conf and finishes with dpkg --configure -a
# (its policy-rc.d keeps the system innd from starting on :119).
#
# Mail for libmail.test sent through Postfix is delivered over LMTP to
# Dovecot; mail that needs SMTPUTF8 (UTF-8 addresses or headers) is written
# by Postfix's virtual(8) into the same maildirs, because Dovecot 2.3's LMTP
# does not offer SMTPUTF8. Bounces and DSN reports to libmail.test senders
# land in their mailboxes the same way.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RUNDIR=${MAIL_TEST_RUNDIR:-/tmp/libmail-servers}
DOMAIN=libmail.test
START_TIMEOUT=${MAIL_TEST_START_TIMEOUT:-20}
STOP_TIMEOUT=10

# MAIL_TEST_PORT_OFFSET shifts every port so that a second, private set of
# servers (its own MAIL_TEST_RUNDIR) can run beside the usual one, e.g. while
# one branch tests a changed server configuration.
PORT_OFFSET=${MAIL_TEST_PORT_OFFSET:-0}
[[ $PORT_OFFSET =~ ^[0-9]{1,4}$ ]] || { echo "servers.sh: MAIL_TEST_PORT_OFFSET must be 0..9999" >&2; exit 2; }
SMTP_PORT=$((12525 + PORT_OFFSET)) SMTPS_PORT=$((12465 + PORT_OFFSET))
SUBMISSION_PORT=$((12587 + PORT_OFFSET))
IMAP_PORT=$((12143 + PORT_OFFSET)) IMAPS_PORT=$((12993 + PORT_OFFSET))
POP3_PORT=$((12110 + PORT_OFFSET)) POP3S_PORT=$((12995 + PORT_OFFSET))
LMTP_PORT=$((12024 + PORT_OFFSET))
NNTP_PORT=$((12119 + PORT_OFFSET)) NNTPS_PORT=$((12563 + PORT_OFFSET))
ALL_PORTS="$SMTP_PORT $SMTPS_PORT $SUBMISSION_PORT $IMAP_PORT $IMAPS_PORT $POP3_PORT $POP3S_PORT $LMTP_PORT $NNTP_PORT $NNTPS_PORT"
# Ports whose server speaks first in clear text: we wait for the greeting.
GREETING_PORTS="$SMTP_PORT $SUBMISSION_PORT $IMAP_PORT $POP3_PORT $LMTP_PORT $NNTP_PORT"

USERS=(alice bob cedric quota notify)
PASSWORDS=(alice-pw-1 bob-pw-2 'pässwörd-€' quota-pw notify-pw-5)
QUOTA_BYTES=10240
UTF8_ADDR="cédric@$DOMAIN"
UTF8_USER=cedric

MAIL_USER=nobody
MAIL_GROUP=nogroup

DOVECOT_DIR=$RUNDIR/dovecot
DOVECOT_CONF=$DOVECOT_DIR/dovecot.conf
DOVECOT_PID=$DOVECOT_DIR/run/master.pid
POSTFIX_CONF=$RUNDIR/postfix/conf
POSTFIX_SPOOL=$RUNDIR/postfix/spool
POSTFIX_PID=$POSTFIX_SPOOL/pid/master.pid
LOGDIR=$RUNDIR/log
ENV_FILE=$RUNDIR/servers.env
INN_DIR=$RUNDIR/inn
INN_BIN=/usr/lib/news/bin
INN_CONF=$INN_DIR/etc/inn.conf
INND_PID=$INN_DIR/innd.pid
NNRPD_PID=$INN_DIR/nnrpd.pid
NNTP_GROUP=libmail.test
NNTP_EMPTY_GROUP=libmail.test.empty

STARTED_DOVECOT= STARTED_POSTFIX= STARTED_INN= CERTS_CHANGED=0
say() { printf 'servers.sh: %s\n' "$*"; }
die() {
    printf 'servers.sh: error: %s\n' "$*" >&2
    # A failed start leaves nothing half up: stop what this run started.
    local pid
    if [[ -n $STARTED_POSTFIX ]] && pid=$(postfix_pid); then
        STARTED_POSTFIX=
        stop_pid postfix "$pid" master >&2
    fi
    if [[ -n $STARTED_DOVECOT ]] && pid=$(dovecot_pid); then
        STARTED_DOVECOT=
        stop_pid dovecot "$pid" dovecot >&2
    fi
    if [[ -n $STARTED_INN ]]; then
        STARTED_INN=
        stop_inn >&2
    fi
    exit 1
}

# start/stop/restart of one run dir never overlap (two test runs at once).
take_lock() {
    mkdir -p "$RUNDIR"
    chmod 755 "$RUNDIR"
    exec 9>"$RUNDIR/.lock"
    flock -w 60 9 || die "another servers.sh holds $RUNDIR/.lock for over 60 s"
}

# The problems in each log (errors, warnings), then its last lines.
log_tails() {
    local f
    for f in "$LOGDIR/dovecot-start.log" "$LOGDIR/dovecot.log" \
             "$LOGDIR/postfix-start.log" "$LOGDIR/postfix.log"; do
        [[ -s $f ]] || continue
        printf -- '--- %s: recent problems ---\n' "$f" >&2
        tail -n 200 "$f" | grep -iE 'fatal|panic|error|warning' | grep -v 'SSL_accept error' \
            | tail -n 10 >&2 || true
        printf -- '--- %s: last lines ---\n' "$f" >&2
        tail -n 5 "$f" >&2
    done
}

# --------------------------------------------------------------- checks
check_tools() {
    local missing=() pair
    # "file-or-command:package"
    for pair in openssl:openssl \
                dovecot:dovecot-core \
                /usr/lib/dovecot/imap:dovecot-imapd \
                /usr/lib/dovecot/pop3:dovecot-pop3d \
                /usr/lib/dovecot/lmtp:dovecot-lmtpd \
                /usr/lib/dovecot/modules/lib10_quota_plugin.so:dovecot-core \
                /usr/lib/dovecot/modules/lib01_acl_plugin.so:dovecot-core \
                /usr/lib/dovecot/modules/lib30_imap_zlib_plugin.so:dovecot-imapd \
                postfix:postfix \
                /usr/lib/postfix/sbin/virtual:postfix \
                $INN_BIN/innd:inn2 \
                $INN_BIN/auth/passwd/ckpasswd:inn2; do
        local what=${pair%%:*} pkg=${pair#*:}
        if [[ $what == /* ]]; then
            [[ -e $what ]] || missing+=("$pkg")
        else
            command -v "$what" >/dev/null 2>&1 || \
                [[ -x /usr/sbin/$what ]] || missing+=("$pkg")
        fi
    done
    if ((${#missing[@]})); then
        local uniq
        uniq=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
        die "missing package(s): ${uniq% }; install with: apt-get install -y ${uniq% }"
    fi
    local who
    for who in postfix dovecot dovenull "$MAIL_USER"; do
        getent passwd "$who" >/dev/null || die "system user '$who' is missing (reinstall postfix / dovecot-core)"
    done
    getent group postdrop >/dev/null || die "group 'postdrop' is missing (reinstall postfix)"
    getent passwd news >/dev/null || die "system user 'news' is missing (reinstall inn2)"
}

need_root() {
    [[ $(id -u) -eq 0 ]] || die "must run as root (Postfix and Dovecot need it); try: sudo $0 $*"
}

# --------------------------------------------------------------- process helpers
# A PID is ours while /proc shows it alive (a zombie counts as gone) and
# running the expected program.
pid_alive() {
    local pid=$1 comm=$2 stat state
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    state=${stat##*) }
    state=${state%% *}
    [[ $state != Z && $state != X ]] || return 1
    [[ -z $comm || $(cat "/proc/$pid/comm" 2>/dev/null) == "$comm" ]]
}

pid_from() {
    local f=$1 pid
    [[ -r $f ]] || return 1
    pid=$(tr -d ' \n' <"$f" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    printf '%s' "$pid"
}

dovecot_pid() { local p; p=$(pid_from "$DOVECOT_PID") && pid_alive "$p" dovecot && printf '%s' "$p"; }
postfix_pid() { local p; p=$(pid_from "$POSTFIX_PID") && pid_alive "$p" master && printf '%s' "$p"; }
innd_pid() { local p; p=$(pid_from "$INND_PID") && pid_alive "$p" innd && printf '%s' "$p"; }
nnrpd_pid() { local p; p=$(pid_from "$NNRPD_PID") && pid_alive "$p" nnrpd && printf '%s' "$p"; }

# Send SIGTERM to one PID and wait (bounded) until /proc says it is gone.
stop_pid() {
    local name=$1 pid=$2 comm=$3 deadline
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + STOP_TIMEOUT))
    while pid_alive "$pid" "$comm"; do
        if ((SECONDS >= deadline)); then
            say "$name (pid $pid) ignored SIGTERM for ${STOP_TIMEOUT}s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.2
            pid_alive "$pid" "$comm" && die "$name (pid $pid) does not die"
            break
        fi
        sleep 0.05
    done
}

# --------------------------------------------------------------- port probes
# True when something accepts on host:port; with a greeting expected, also
# when the first line arrives within a second.
probe_port() {
    local host=$1 port=$2 greet=$3
    timeout 2 bash -c '
        { exec 3<>"/dev/tcp/$0/$1"; } 2>/dev/null || exit 1
        if [[ $2 == 1 ]]; then
            IFS= read -r -t 1 line <&3 || exit 1
            [[ $line == "* OK"* || $line == "+OK"* || $line == 220* || $line == 20[01]* ]] || exit 1
        fi
        exit 0' "$host" "$port" "$greet" </dev/null >/dev/null 2>&1
}

# Prints the endpoints that do not answer yet; empty output means all up.
down_endpoints() {
    local port host greet
    for port in $ALL_PORTS; do
        greet=0
        [[ " $GREETING_PORTS " == *" $port "* ]] && greet=1
        for host in 127.0.0.1 ::1; do
            probe_port "$host" "$port" "$greet" || printf '%s ' "[$host]:$port"
        done
    done
    [[ -S $RUNDIR/lmtp.sock ]] || printf '%s ' "$RUNDIR/lmtp.sock"
}

wait_up() {
    local deadline=$((SECONDS + START_TIMEOUT)) down
    while :; do
        down=$(down_endpoints)
        [[ -z $down ]] && return 0
        if ((SECONDS >= deadline)); then
            log_tails
            die "servers did not come up within ${START_TIMEOUT}s; not answering: $down"
        fi
        sleep 0.1
    done
}

# --------------------------------------------------------------- certificates
certs_valid() {
    [[ -s $RUNDIR/ca.pem && -s $RUNDIR/server.pem && -s $RUNDIR/server.key ]] || return 1
    openssl verify -CAfile "$RUNDIR/ca.pem" "$RUNDIR/server.pem" >/dev/null 2>&1 || return 1
    # Still valid for at least a day, and the key belongs to the certificate.
    openssl x509 -checkend 86400 -noout -in "$RUNDIR/server.pem" >/dev/null 2>&1 || return 1
    openssl x509 -checkend 86400 -noout -in "$RUNDIR/ca.pem" >/dev/null 2>&1 || return 1
    [[ $(openssl x509 -noout -pubkey -in "$RUNDIR/server.pem" 2>/dev/null) == \
       $(openssl pkey -pubout -in "$RUNDIR/server.key" 2>/dev/null) ]]
}

make_certs() {
    certs_valid && return 0
    CERTS_CHANGED=1
    say "creating a private CA and a server certificate in $RUNDIR"
    local tmp
    tmp=$(mktemp -d "$RUNDIR/certs.XXXXXX")
    (
        cd "$tmp"
        umask 077
        openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -keyout ca.key -out ca.pem -days 3650 -sha256 \
            -subj "/O=libmail tests/CN=libmail test CA" \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign"
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -keyout server.key -out server.csr -subj "/O=libmail tests/CN=localhost"
        printf '%s\n' \
            "basicConstraints=critical,CA:FALSE" \
            "keyUsage=critical,digitalSignature,keyEncipherment" \
            "extendedKeyUsage=serverAuth" \
            "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" >server.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
            -out server.pem -days 825 -sha256 -extfile server.ext
    ) >"$LOGDIR/openssl.log" 2>&1 || { cat "$LOGDIR/openssl.log" >&2; rm -rf "$tmp"; die "openssl failed"; }
    chmod 644 "$tmp/ca.pem" "$tmp/server.pem"
    chmod 600 "$tmp/ca.key" "$tmp/server.key"
    mv -f "$tmp/ca.key" "$tmp/ca.pem" "$tmp/server.key" "$tmp/server.pem" "$RUNDIR/"
    rm -rf "$tmp"
}

# --------------------------------------------------------------- configuration
subst() { # template output
    sed -e "s|@RUNDIR@|$RUNDIR|g" \
        -e "s|@SMTP_PORT@|$SMTP_PORT|g" -e "s|@SMTPS_PORT@|$SMTPS_PORT|g" \
        -e "s|@SUBMISSION_PORT@|$SUBMISSION_PORT|g" \
        -e "s|@IMAP_PORT@|$IMAP_PORT|g" -e "s|@IMAPS_PORT@|$IMAPS_PORT|g" \
        -e "s|@POP3_PORT@|$POP3_PORT|g" -e "s|@POP3S_PORT@|$POP3S_PORT|g" \
        -e "s|@LMTP_PORT@|$LMTP_PORT|g" -e "s|@PORT_OFFSET@|$PORT_OFFSET|g" \
        -e "s|@MAILUID@|$MAIL_UID|g" \
        -e "s|@MAILGID@|$MAIL_GID|g" "$1" >"$2.tmp"
    mv -f "$2.tmp" "$2"
}

setup_users() {
    local i u passwd=$DOVECOT_DIR/passwd extra
    : >"$passwd.tmp"
    chmod 640 "$passwd.tmp"
    for i in "${!USERS[@]}"; do
        u=${USERS[$i]}
        extra=
        [[ $u == quota ]] && extra="userdb_quota_rule=*:storage=$((QUOTA_BYTES / 1024))k"
        # NOTIFY needs the mailbox list index, which dovecot.conf.in turns
        # off for everyone else (see there): this user alone has it.
        [[ $u == notify ]] && extra="userdb_mailbox_list_index=yes"
        printf '%s:{PLAIN}%s:%s:%s::%s::%s\n' "$u" "${PASSWORDS[$i]}" "$MAIL_UID" "$MAIL_GID" \
            "$RUNDIR/mail/$u" "$extra" >>"$passwd.tmp"
        mkdir -p "$RUNDIR/mail/$u/Maildir/cur" "$RUNDIR/mail/$u/Maildir/new" "$RUNDIR/mail/$u/Maildir/tmp"
    done
    chgrp dovecot "$passwd.tmp"
    mv -f "$passwd.tmp" "$passwd"
    chown -R "$MAIL_UID:$MAIL_GID" "$RUNDIR/mail"
    chmod 755 "$RUNDIR/mail"
}

setup_dovecot() {
    mkdir -p "$DOVECOT_DIR/run" "$DOVECOT_DIR/state"
    chmod 755 "$DOVECOT_DIR" "$DOVECOT_DIR/run"
    subst "$HERE/dovecot.conf.in" "$DOVECOT_CONF"
    setup_oauth2
}

# The oauth2 passdb validates JWTs locally: an HS256 key (made once, kept
# while the run dir lives) in a dict of files, looked up by Dovecot as
# shared/<azp>/<alg>/<kid> ("default" for both when the token has none),
# which the fs dict reads from the file <azp>/<alg>/<kid> under its prefix.
setup_oauth2() {
    local keydir=$DOVECOT_DIR/oauth2-keys/default/HS256
    if [[ ! -s $keydir/default ]]; then
        mkdir -p "$keydir"
        openssl rand -base64 32 >"$keydir/default.tmp"
        mv -f "$keydir/default.tmp" "$keydir/default"
    fi
    chgrp -R dovecot "$DOVECOT_DIR/oauth2-keys"
    chmod -R g+rX,o-rwx "$DOVECOT_DIR/oauth2-keys"
    printf '%s\n' "introspection_mode = local" \
        "local_validation_key_dict = fs:posix:prefix=$DOVECOT_DIR/oauth2-keys/" \
        "username_attribute = sub" >"$DOVECOT_DIR/oauth2.conf"
}

setup_postfix() {
    local d
    mkdir -p "$POSTFIX_CONF" "$POSTFIX_SPOOL" "$RUNDIR/postfix/data"
    chmod 755 "$RUNDIR/postfix" "$POSTFIX_CONF" "$POSTFIX_SPOOL"
    chown root:root "$POSTFIX_CONF" "$POSTFIX_SPOOL"
    chown postfix "$RUNDIR/postfix/data"
    chmod 700 "$RUNDIR/postfix/data"
    # The queue tree exactly as postfix-files wants it, so that a start with
    # the quick-start marker skips the slow post-install checks.
    for d in active bounce corrupt defer deferred flush hold incoming private saved trace; do
        mkdir -p "$POSTFIX_SPOOL/$d"
        chown postfix "$POSTFIX_SPOOL/$d"
        chmod 700 "$POSTFIX_SPOOL/$d"
    done
    mkdir -p "$POSTFIX_SPOOL/maildrop" "$POSTFIX_SPOOL/public" "$POSTFIX_SPOOL/pid"
    chown postfix:postdrop "$POSTFIX_SPOOL/maildrop" "$POSTFIX_SPOOL/public"
    chmod 730 "$POSTFIX_SPOOL/maildrop"
    chmod 710 "$POSTFIX_SPOOL/public"
    chown root:root "$POSTFIX_SPOOL/pid"
    chmod 755 "$POSTFIX_SPOOL/pid"

    subst "$HERE/postfix-main.cf.in" "$POSTFIX_CONF/main.cf"
    subst "$HERE/postfix-master.cf.in" "$POSTFIX_CONF/master.cf"
    {
        local u
        for u in "${USERS[@]}"; do printf '%s@%s %s/Maildir/\n' "$u" "$DOMAIN" "$u"; done
        printf '%s %s/Maildir/\n' "$UTF8_ADDR" "$UTF8_USER"
    } >"$POSTFIX_CONF/vmailbox"
    # Any byte >= 0x80 (raw bytes: Postfix's regexp runs in the C locale):
    # UTF-8 recipients are delivered by virtual(8); a UTF-8 sender, recipient
    # or header sends the whole message there (FILTER), since LMTP would bounce it.
    printf '/[\200-\377]/ virtual:\n' >"$POSTFIX_CONF/transport_utf8"
    printf '/[\200-\377]/ FILTER virtual:%s\n' "$DOMAIN" >"$POSTFIX_CONF/utf8_sender"
    printf '/[\200-\377]/ FILTER virtual:%s\n' "$DOMAIN" >"$POSTFIX_CONF/utf8_filter"
    # Postfix re-reads files younger than ~1 s while starting: back-date them.
    touch -d '-1 minute' "$POSTFIX_CONF"/*
}

# INN's private tree: inn.conf (every path in the tree), the active file
# with the test groups, history, readers.conf with ckpasswd, TLS files.
setup_inn() {
    local d=$INN_DIR
    mkdir -p "$d/etc" "$d/db" "$d/run" "$d/log" "$d/tmp" "$d/filter" "$d/http" \
        "$d/spool/articles" "$d/spool/overview" "$d/spool/incoming/tmp" \
        "$d/spool/outgoing" "$d/spool/archive"
    install -m 644 "$RUNDIR/server.pem" "$d/etc/cert.pem"
    install -m 644 "$RUNDIR/ca.pem" "$d/etc/ca.pem"
    install -m 600 "$RUNDIR/server.key" "$d/etc/key.pem"
    cat >"$INN_CONF" <<INNCONF
domain: localdomain
pathhost: libmail.test
organization: "libmail tests"
mta: "/bin/true %s"
mailcmd: /bin/true
ovmethod: tradindexed
hismethod: hisv6
enableoverview: true
wireformat: true
storeonxref: true
extraoverviewadvertised: [ ]
extraoverviewhidden: [ ]
port: $NNTP_PORT
bindaddress: 127.0.0.1
bindaddress6: "::1"
noreader: false
readerswhenstopped: false
nnrpdloadlimit: 0
allownewnews: true
pgpverify: false
docancels: "require-auth"
maxartsize: 1000000
localmaxartsize: 1000000
artcutoff: 0
addinjectiondate: true
addinjectionpostinghost: false
doinnwatch: false
docnfsstat: false
logstatus: false
status: 0
timer: 1
maxforks: 10
nicekids: 0
tlscafile: $d/etc/ca.pem
tlscertfile: $d/etc/cert.pem
tlskeyfile: $d/etc/key.pem
pathnews: /usr/lib/news
pathbin: $INN_BIN
pathcontrol: $INN_BIN/control
pathfilter: $d/filter
pathetc: $d/etc
pathdb: $d/db
pathrun: $d/run
pathlog: $d/log
pathhttp: $d/http
pathtmp: $d/tmp
pathspool: $d/spool
patharticles: $d/spool/articles
pathoverview: $d/spool/overview
pathincoming: $d/spool/incoming
pathoutgoing: $d/spool/outgoing
patharchive: $d/spool/archive
INNCONF
    : >"$d/etc/incoming.conf"
    printf 'ME:!*/!local::\n' >"$d/etc/newsfeeds"
    printf 'method tradspool {\n    newsgroups: *\n    class: 0\n}\n' >"$d/etc/storage.conf"
    printf '10:%s.*:local\n' "$NNTP_GROUP" >"$d/etc/distrib.pats"
    printf 'local\tthis site only\n' >"$d/etc/distributions"
    : >"$d/etc/moderators"
    : >"$d/etc/subscriptions"
    # Anyone reads (and NEWNEWS); logged-in users also post (the last
    # matching access block wins, so <anon> gets the second one).
    cat >"$d/etc/readers.conf" <<READERS
auth "all" {
    hosts: "*"
    auth: "ckpasswd -f $d/etc/passwd"
    default: "<anon>"
}
access "users" {
    users: "*"
    newsgroups: "*"
    access: RPNA
}
access "anonymous" {
    users: "<anon>"
    newsgroups: "*"
    access: RN
}
READERS
    local i
    : >"$d/etc/passwd"
    for i in 0 1; do
        printf '%s:%s\n' "${USERS[$i]}" "$(openssl passwd -6 "${PASSWORDS[$i]}")" >>"$d/etc/passwd"
    done
    chmod 640 "$d/etc/passwd"
    # The groups: kept across runs (the active file is innd's own after
    # the first start), added when missing.
    local g line now
    now=$(date +%s)
    [[ -e $d/db/active ]] || : >"$d/db/active"
    for g in control control.cancel junk "$NNTP_GROUP" "$NNTP_EMPTY_GROUP"; do
        grep -q "^$g " "$d/db/active" && continue
        line="$g 0000000000 0000000001 y"
        [[ $g == junk || $g == control* ]] && line="$g 0000000000 0000000001 n"
        printf '%s\n' "$line" >>"$d/db/active"
        printf '%s %s libmail-tests\n' "$g" "$now" >>"$d/db/active.times"
        printf '%s\t%s\n' "$g" "libmail test group $g" >>"$d/db/newsgroups"
    done
    chown -R news:news "$d"
    chmod 755 "$d"
    if [[ ! -e $d/db/history.dir ]]; then
        runuser -u news -- touch "$d/db/history"
        ( cd "$d/db" && INNCONF=$INN_CONF runuser -u news -- env INNCONF="$INN_CONF" \
            "$INN_BIN/makedbz" -i -o ) >"$LOGDIR/inn-start.log" 2>&1 || {
            cat "$LOGDIR/inn-start.log" >&2
            die "makedbz failed"
        }
    fi
}

check_rundir() {
    # It lands unquoted in Postfix and Dovecot configs, and the daemons'
    # unprivileged users must be able to reach it.
    [[ $RUNDIR =~ ^/[A-Za-z0-9._/-]+$ ]] || \
        die "MAIL_TEST_RUNDIR must be an absolute path of [A-Za-z0-9._/-] only: $RUNDIR"
    local d=$RUNDIR
    while d=$(dirname "$d") && [[ $d != / ]]; do
        [[ ! -d $d ]] || [[ $(stat -c %A "$d") == ?????????[xt] ]] || \
            die "$d is not searchable by other users; the mail daemons could not reach $RUNDIR"
    done
}

setup() {
    mkdir -p "$RUNDIR" "$LOGDIR"
    chmod 755 "$RUNDIR" "$LOGDIR"
    MAIL_UID=$(id -u "$MAIL_USER")
    MAIL_GID=$(getent group "$MAIL_GROUP" | cut -d: -f3)
    make_certs
    setup_dovecot
    setup_users
    setup_postfix
    setup_inn
}

write_env() {
    local i n tmp=$ENV_FILE.tmp
    {
        printf '# written by tests/servers/servers.sh start; removed by stop\n'
        printf 'MAIL_TEST_RUNDIR=%s\n' "$RUNDIR"
        printf 'MAIL_TEST_HOST=127.0.0.1\nMAIL_TEST_HOST6=::1\nMAIL_TEST_HOSTNAME=localhost\n'
        printf 'MAIL_TEST_CA=%s\n' "$RUNDIR/ca.pem"
        printf 'MAIL_TEST_SERVER_CERT=%s\n' "$RUNDIR/server.pem"
        printf 'MAIL_TEST_DOMAIN=%s\n' "$DOMAIN"
        printf 'MAIL_TEST_SMTP_PORT=%s\n' "$SMTP_PORT"
        printf 'MAIL_TEST_SMTPS_PORT=%s\n' "$SMTPS_PORT"
        printf 'MAIL_TEST_SUBMISSION_PORT=%s\n' "$SUBMISSION_PORT"
        printf 'MAIL_TEST_IMAP_PORT=%s\n' "$IMAP_PORT"
        printf 'MAIL_TEST_IMAPS_PORT=%s\n' "$IMAPS_PORT"
        printf 'MAIL_TEST_POP3_PORT=%s\n' "$POP3_PORT"
        printf 'MAIL_TEST_POP3S_PORT=%s\n' "$POP3S_PORT"
        printf 'MAIL_TEST_LMTP_PORT=%s\n' "$LMTP_PORT"
        printf 'MAIL_TEST_LMTP_SOCKET=%s\n' "$RUNDIR/lmtp.sock"
        for i in "${!USERS[@]}"; do
            n=$((i + 1))
            printf 'MAIL_TEST_USER%d=%s\n' "$n" "${USERS[$i]}"
            printf 'MAIL_TEST_PASS%d=%s\n' "$n" "${PASSWORDS[$i]}"
            printf 'MAIL_TEST_ADDR%d=%s@%s\n' "$n" "${USERS[$i]}" "$DOMAIN"
            printf 'MAIL_TEST_MAILDIR%d=%s\n' "$n" "$RUNDIR/mail/${USERS[$i]}/Maildir"
        done
        printf 'MAIL_TEST_QUOTA_USER=quota\nMAIL_TEST_QUOTA_PASS=quota-pw\n'
        printf 'MAIL_TEST_QUOTA_ADDR=quota@%s\n' "$DOMAIN"
        printf 'MAIL_TEST_QUOTA_MAILDIR=%s\n' "$RUNDIR/mail/quota/Maildir"
        printf 'MAIL_TEST_QUOTA_BYTES=%s\n' "$QUOTA_BYTES"
        printf 'MAIL_TEST_UTF8_ADDR=%s\n' "$UTF8_ADDR"
        printf 'MAIL_TEST_UTF8_MAILDIR=%s\n' "$RUNDIR/mail/$UTF8_USER/Maildir"
        printf 'MAIL_TEST_SASL_MECHS=PLAIN,LOGIN,CRAM-MD5,SCRAM-SHA-1,SCRAM-SHA-256\n'
        if [[ -s $DOVECOT_DIR/oauth2-keys/default/HS256/default ]]; then
            printf 'MAIL_TEST_OAUTH2_KEY=%s\n' "$(cat "$DOVECOT_DIR/oauth2-keys/default/HS256/default")"
            printf 'MAIL_TEST_TOKEN_MECHS=OAUTHBEARER\n'
        fi
        printf 'MAIL_TEST_MAX_MESSAGE_SIZE=52428800\n'
        printf 'MAIL_TEST_DOVECOT_LOG=%s\n' "$LOGDIR/dovecot.log"
        printf 'MAIL_TEST_POSTFIX_LOG=%s\n' "$LOGDIR/postfix.log"
        printf 'MAIL_TEST_NNTP_PORT=%s\n' "$NNTP_PORT"
        printf 'MAIL_TEST_NNTPS_PORT=%s\n' "$NNTPS_PORT"
        printf 'MAIL_TEST_NNTP_GROUP=%s\n' "$NNTP_GROUP"
        printf 'MAIL_TEST_NNTP_EMPTY_GROUP=%s\n' "$NNTP_EMPTY_GROUP"
        printf 'MAIL_TEST_NNTP_USER=%s\nMAIL_TEST_NNTP_PASS=%s\n' "${USERS[0]}" "${PASSWORDS[0]}"
        printf 'MAIL_TEST_NNTP_INNCONF=%s\n' "$INN_CONF"
    } >"$tmp"
    chmod 644 "$tmp"
    mv -f "$tmp" "$ENV_FILE"
}

# --------------------------------------------------------------- commands
start_dovecot() {
    local pid
    if pid=$(dovecot_pid); then
        say "dovecot already running (pid $pid)"
        return 0
    fi
    rm -f "$DOVECOT_PID"
    # Each fresh start gets a fresh log; the previous one is kept as .1.
    [[ -e $LOGDIR/dovecot.log ]] && mv -f "$LOGDIR/dovecot.log" "$LOGDIR/dovecot.log.1"
    # Daemons must not keep our stdout/stderr: a caller reading us through a
    # pipe would wait forever.
    STARTED_DOVECOT=1
    # 9>&-: the daemons must not inherit (and so hold) our lock.
    dovecot -c "$DOVECOT_CONF" </dev/null >"$LOGDIR/dovecot-start.log" 2>&1 9>&- || {
        log_tails
        die "dovecot failed to start"
    }
}

start_postfix() {
    local pid
    if pid=$(postfix_pid); then
        say "postfix already running (pid $pid)"
        return 0
    fi
    rm -f "$POSTFIX_PID"
    [[ -e $LOGDIR/postfix.log ]] && mv -f "$LOGDIR/postfix.log" "$LOGDIR/postfix.log.1"
    touch "$POSTFIX_SPOOL/quick-start"
    STARTED_POSTFIX=1
    postfix -c "$POSTFIX_CONF" start </dev/null >"$LOGDIR/postfix-start.log" 2>&1 9>&- || {
        log_tails
        die "postfix failed to start"
    }
}

start_inn() {
    local pid
    STARTED_INN=1
    if pid=$(innd_pid); then
        say "innd already running (pid $pid)"
    else
        rm -f "$INND_PID" "$INN_DIR/run/innd.pid"
        # -f: stay in the foreground of its own session, so $! is innd.
        INNCONF=$INN_CONF setsid "$INN_BIN/innd" -f </dev/null >"$LOGDIR/innd.log" 2>&1 9>&- &
        printf '%s\n' "$!" >"$INND_PID"
    fi
    if pid=$(nnrpd_pid); then
        say "nnrpd (NNTPS) already running (pid $pid)"
    else
        rm -f "$NNRPD_PID"
        INNCONF=$INN_CONF setsid "$INN_BIN/nnrpd" -D -f -S -p "$NNTPS_PORT" -4 127.0.0.1 -6 ::1 \
            </dev/null >"$LOGDIR/nnrpd.log" 2>&1 9>&- &
        printf '%s\n' "$!" >"$NNRPD_PID"
    fi
}

# TERM to each process group (nnrpd children included), then wait.
stop_inn() {
    local pid name
    for name in nnrpd innd; do
        if pid=$("${name}_pid"); then
            kill -TERM -- "-$pid" 2>/dev/null || true
            stop_pid "$name" "$pid" "$name"
            kill -KILL -- "-$pid" 2>/dev/null || true
            say "$name stopped"
        fi
    done
    rm -f "$INND_PID" "$NNRPD_PID"
}

cmd_start() {
    need_root start
    check_tools
    check_rundir
    take_lock
    setup
    if ((CERTS_CHANGED)) && { dovecot_pid || postfix_pid || innd_pid; } >/dev/null; then
        say "new certificates: restarting the running servers"
        stop_daemons
    fi
    start_dovecot
    start_postfix
    start_inn
    wait_up
    STARTED_DOVECOT= STARTED_POSTFIX= STARTED_INN=
    write_env
    say "up: dovecot pid $(dovecot_pid), postfix pid $(postfix_pid), innd pid $(innd_pid); env in $ENV_FILE"
}

cmd_stop() {
    need_root stop
    [[ -d $RUNDIR ]] || return 0
    take_lock
    stop_daemons
}

stop_daemons() {
    local pid
    rm -f "$ENV_FILE"
    if pid=$(postfix_pid); then
        stop_pid postfix "$pid" master
        say "postfix stopped"
    fi
    if pid=$(dovecot_pid); then
        stop_pid dovecot "$pid" dovecot
        say "dovecot stopped"
    fi
    rm -f "$POSTFIX_PID" "$DOVECOT_PID"
    stop_inn
}

cmd_status() {
    local rc=0 pid down
    if pid=$(dovecot_pid); then say "dovecot running (pid $pid)"; else say "dovecot not running"; rc=3; fi
    if pid=$(postfix_pid); then say "postfix running (pid $pid)"; else say "postfix not running"; rc=3; fi
    if pid=$(innd_pid); then say "innd running (pid $pid)"; else say "innd not running"; rc=3; fi
    down=$(down_endpoints)
    if [[ -n $down ]]; then
        say "not answering: $down"
        rc=3
    else
        say "all ports answer; env in $ENV_FILE"
    fi
    return $rc
}

case ${1:-} in
    start) cmd_start ;;
    stop) cmd_stop ;;
    restart) cmd_stop; cmd_start ;;
    status) cmd_status ;;
    *) printf 'usage: %s start|stop|status|restart\n' "$0" >&2; exit 2 ;;
esac
