//! Pattern matching (`| pattern`, `|>`) on known inputs.

use logql::Pattern;

#[allow(clippy::type_complexity)]
const CASES: &[(&str, &str, Option<&[&str]>, bool)] = &[
    ("foo <foo> bar", "foo buzz bar", Some(&["buzz"]), true),
    ("foo <foo> bar<fuzz>", "foo buzz bar", Some(&["buzz", ""]), false),
    ("<foo>foo <bar> bar", "foo buzz bar", Some(&["", "buzz"]), false),
    ("<foo> bar<fuzz>", " bar", Some(&["", ""]), false),
    ("<foo>bar<baz>", " bar ", Some(&[" ", " "]), true),
    ("<foo> bar<baz>", " bar ", Some(&["", " "]), false),
    ("<foo>bar <baz>", " bar ", Some(&[" ", ""]), false),
    ("<foo>", " bar ", Some(&[" bar "]), true),
    (
        "<path>?<_>",
        "/api/plugins/versioncheck?slugIn=snuids-trafficlights-panel,input,gel&grafanaVersion=7.0.0-beta1",
        Some(&["/api/plugins/versioncheck"]),
        true,
    ),
    ("<path>?<_>", "/api/plugins/status", Some(&["/api/plugins/status"]), false),
    (
        "<ip> <userid> <user> [<_>] \"<method> <path> <_>\" <status> <size>",
        "127.0.0.1 user-identifier frank [10/Oct/2000:13:55:36 -0700] \"GET /apache_pb.gif HTTP/1.0\" 200 2326",
        Some(&["127.0.0.1", "user-identifier", "frank", "GET", "/apache_pb.gif", "200", "2326"]),
        true,
    ),
    (
        "<ip> - - [<_>] \"<method> <path> <_>\" <status> <size> ",
        "35.191.8.106 - - [19/May/2021:07:21:49 +0000] \"GET /api/plugins/versioncheck?slugIn=snuids-trafficlights-panel,input,gel&grafanaVersion=7.0.0-beta1 HTTP/1.1\" 200 107 \"-\" \"Go-http-client/2.0\" \"80.153.74.144, 34.120.177.193\" \"TLSv1.3\" \"DE\" \"DEBW\"",
        Some(&[
            "35.191.8.106",
            "GET",
            "/api/plugins/versioncheck?slugIn=snuids-trafficlights-panel,input,gel&grafanaVersion=7.0.0-beta1",
            "200",
            "107",
        ]),
        false,
    ),
    (
        "<_> <id> [<level>] [<no>] [<component>] ",
        "2020-08-06T14:25:02.835618Z 0 [Note] [MY-012487] [InnoDB] DDL log recovery : begin",
        Some(&["0", "Note", "MY-012487", "InnoDB"]),
        false,
    ),
    (
        "<_> <id> [<level>] ",
        "2021-05-19T07:40:12.215792Z 42761518 [Note] Aborted connection 42761518 to db: 'hosted_grafana' user: 'hosted_grafana' host: '10.36.4.122' (Got an error reading communication packets)",
        Some(&["42761518", "Note"]),
        false,
    ),
    (
        "<id> <_>       <_> <line>] ",
        "W0519 07:46:47.647050       1 clientconn.go:1223] grpc: addrConn.createTransport failed to connect to {https://kubernetes-etcd-1.kubernetes-etcd:2379  <nil> 0 <nil>}. Err :connection error: desc = \"transport: Error while dialing dial tcp 10.32.85.85:2379: connect: connection refused\". Reconnecting...",
        Some(&["W0519", "clientconn.go:1223"]),
        false,
    ),
    (
        "<level>  [<component>]<_> in <duration>.<_>",
        "INFO  [Service Thread] 2021-05-19 07:40:12,130 GCInspector.java:284 - ParNew GC in 248ms.  CMS Old Gen: 5043436640 -> 5091062064; Par Eden Space: 671088640 -> 0; Par Survivor Space: 70188280 -> 60139760",
        Some(&["INFO", "Service Thread", "248ms"]),
        true,
    ),
    (
        "<_> msg=\"<method> <path> (<status>) <duration>\"",
        "level=debug ts=2021-05-19T07:54:26.864644382Z caller=logging.go:66 traceID=7fbb92fd0eb9c65d msg=\"POST /loki/api/v1/push (204) 1.238734ms\"",
        Some(&["POST", "/loki/api/v1/push", "204", "1.238734ms"]),
        true,
    ),
    (
        "<_> <_> <level> | <component>: <_> peer <peer_id> <_> tcp <ip>:<_>",
        "2021-05-19 08:16:50.181436 W | rafthttp: health check for peer fd8275e521cfb532 could not connect: dial tcp 10.32.85.85:2380: connect: connection refused",
        Some(&["W", "rafthttp", "fd8275e521cfb532", "10.32.85.85"]),
        true,
    ),
    (
        "<_>] <level> [Log partition=<part>, dir=<dir>] ",
        "[2021-05-19 08:35:28,681] INFO [Log partition=p-636-L-fs-117, dir=/data/kafka-logs] Deleting segment 455976081 (kafka.log.Log)",
        Some(&["INFO", "p-636-L-fs-117", "/data/kafka-logs"]),
        false,
    ),
    (
        "<_>][<level>][<component>] [<id>] [<index>]",
        "[2021-05-19T06:54:06,994][INFO ][o.e.c.m.MetaDataMappingService] [1f605d47-8454-4bfb-a67f-49f318bf837a] [usage-stats-2021.05.19/O2Je9IbmR8CqFyUvNpTttA] update_mapping [report]",
        Some(&[
            "INFO ",
            "o.e.c.m.MetaDataMappingService",
            "1f605d47-8454-4bfb-a67f-49f318bf837a",
            "usage-stats-2021.05.19/O2Je9IbmR8CqFyUvNpTttA",
        ]),
        false,
    ),
    (
        "<_> \"<method> <path> <_>\" <status> <_> <received_bytes> <sent_bytes> <duration> <upstream_time> \"<forward_for>\" \"<agent>\" <_> <_> \"<upstream>\"",
        "[2016-04-15T20:17:00.310Z] \"POST /api/v1/locations HTTP/2\" 204 - 154 0 226 100 \"10.0.35.28\" \"nsq2http\" \"cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2\" \"locations\" \"tcp://10.0.2.1:80\"",
        Some(&[
            "POST",
            "/api/v1/locations",
            "204",
            "154",
            "0",
            "226",
            "100",
            "10.0.35.28",
            "nsq2http",
            "tcp://10.0.2.1:80",
        ]),
        true,
    ),
    ("unicode <emoji> character", "unicode 🤷 character", Some(&["🤷"]), true),
    ("unicode ▶ <what>", "unicode ▶ character", Some(&["character"]), true),
];

#[test]
fn pattern_fixtures() {
    let mut bad = Vec::new();
    for (expr, line, want, matches) in CASES {
        let p = Pattern::parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
        let got = p.matches(line).filter(|c| !c.is_empty());
        let want: Option<Vec<&str>> = want.map(|w| w.to_vec());
        if got != want || p.test(line) != *matches {
            bad.push(format!("{expr:?} on {line:?}: want {want:?}/{matches}, got {got:?}/{}", p.test(line)));
        }
    }
    for b in &bad {
        println!("{b}");
    }
    assert!(bad.is_empty(), "{} pattern cases differ", bad.len());
}
