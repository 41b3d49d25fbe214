//! Printing and round-trip cases taken from the behaviour of Loki's parser.

use logql::parse;

const EXACT: &[&str] = &[
    r#"{foo="bar"}"#,
    r#"{foo="bar", bar!="baz"}"#,
    r#"{foo="bar", bar!="baz"} != "bip" !~ ".+bop""#,
    r#"{foo="bar"} |= "baz" |~ "blip" |> "qux" !> "waldo" != "flip" !~ "flap""#,
    r#"{foo="bar", bar!="baz"} |= """#,
    r#"{foo="bar", bar!="baz"} |= "" |= ip("::1")"#,
    r#"{foo="bar", bar!="baz"} |= "" != ip("127.0.0.1")"#,
    r#"{foo="bar", bar!="baz"} |~ """#,
    r#"{foo="bar", bar!="baz"} |~ ".*""#,
    r#"{foo="bar", bar!="baz"} |= "" |= """#,
    r#"{foo="bar", bar!="baz"} |~ "" |= "" |~ ".*""#,
    r#"{foo="bar", bar!="baz"} |> """#,
    r#"{foo="bar", bar!="baz"} |> "<_>""#,
    r#"{foo="bar", bar!="baz"} |> "<_>" !> "<_> <_>""#,
    r#"{foo="bar", bar!="baz"} != "bip" !~ ".+bop" |> "<_> bop <_>" | json"#,
    r#"{foo="bar"} |= "baz" |~ "blip" != "flip" !~ "flap" | logfmt"#,
    r#"{foo="bar"} |= "baz" |~ "blip" != "flip" !~ "flap" | logfmt --strict"#,
    r#"{foo="bar"} |= "baz" |~ "blip" != "flip" !~ "flap" | logfmt --strict --keep-empty"#,
    r#"{foo="bar"} |= "baz" |~ "blip" != "flip" !~ "flap" | unpack | foo>5"#,
    r#"{foo="bar"} |= "baz" |~ "blip" != "flip" !~ "flap" | pattern "<foo> bar <buzz>" | foo>5"#,
    r#"{foo="bar"} |= "baz" |~ "blip" != "flip" !~ "flap" | logfmt | b>=10GB"#,
    r#"{foo="bar"} |= "baz" |~ "blip" != "flip" !~ "flap" | logfmt | b=ip("127.0.0.1")"#,
    r#"{foo="bar"} |= "baz" |~ "blip" != "flip" !~ "flap" | logfmt | b=ip("127.0.0.1") | level="error""#,
    r#"{foo="bar"} |= "baz" |~ "blip" != "flip" !~ "flap" | logfmt --strict b="foo" | b=ip("127.0.0.1") | level="error""#,
    r#"{foo="bar"} |= "baz" |~ "blip" != "flip" !~ "flap" | logfmt --strict --keep-empty b="foo" | b=ip("127.0.0.1") | level="error""#,
    r#"{foo="bar"} |= "baz" |~ "blip" != "flip" !~ "flap" | logfmt | b=ip("127.0.0.1") | level="error" | c=ip("::1")"#,
    r#"{foo="bar"} |= "baz" |~ "blip" != "flip" !~ "flap" | regexp "(?P<foo>foo|bar)""#,
    r#"{foo="bar"} |= "baz" |~ "blip" != "flip" !~ "flap" | regexp "(?P<foo>foo|bar)" | ( ( foo<5.01 , bar>20ms ) or foo="bar" ) | line_format "blip{{.boop}}bap" | label_format foo=bar,bar="blip{{.blop}}""#,
    r#"{foo="bar"} | logfmt | counter>-1 | counter>=-1 | counter<-1 | counter<=-1 | counter!=-1 | counter==-1"#,
];

const ROUND_TRIP: &[&str] = &[
    r#"rate( ( {job="mysql"} |="error" !="timeout" ) [10s] )>-1"#,
    r#"rate( ( {job="mysql"} |="error" !="timeout" ) [10s] )"#,
    r#"absent_over_time( ( {job="mysql"} |="error" !="timeout" ) [10s] )"#,
    r#"absent_over_time( ( {job="mysql"} |="error" !="timeout" ) [10s] offset 10d )"#,
    r#"vector(123)"#,
    r#"sort(sum by(a) (rate( ( {job="mysql"} |="error" !="timeout" ) [10s] ) ))"#,
    r#"sort_desc(sum by(a) (rate( ( {job="mysql"} |="error" !="timeout" ) [10s] ) ))"#,
    r#"sum without(a) ( rate ( ( {job="mysql"} |="error" !="timeout" ) [10s] ) )"#,
    r#"sum by(a) (rate( ( {job="mysql"} |="error" !="timeout" ) [10s] ) )"#,
    r#"sum(count_over_time({job="mysql"}[5m]))"#,
    r#"sum(count_over_time({job="mysql"}[5m] offset 10m))"#,
    r#"sum(count_over_time({job="mysql"} | json [5m]))"#,
    r#"sum(count_over_time({job="mysql"} | json [5m] offset 10m))"#,
    r#"sum(count_over_time({job="mysql"} | logfmt [5m]))"#,
    r#"sum(count_over_time({job="mysql"} | logfmt --strict [5m] offset 10m))"#,
    r#"sum(count_over_time({job="mysql"} | pattern "<foo> bar <buzz>" | json [5m]))"#,
    r#"sum(count_over_time({job="mysql"} | unpack | json [5m]))"#,
    r#"sum(count_over_time({job="mysql"} | regexp "(?P<foo>foo|bar)" [5m]))"#,
    r#"sum(count_over_time({job="mysql"} | regexp "(?P<foo>foo|bar)" [5m] offset 10y))"#,
    r#"topk(10,sum(rate({region="us-east1"}[5m])) by (name))"#,
    r#"topk by (name)(10,sum(rate({region="us-east1"}[5m])))"#,
    r#"avg( rate( ( {job="nginx"} |= "GET" ) [10s] ) ) by (region)"#,
    r#"avg(min_over_time({job="nginx"} |= "GET" | unwrap foo[10s])) by (region)"#,
    r#"avg(min_over_time({job="nginx"} |= "GET" | unwrap foo[10s] offset 10m)) by (region)"#,
    r#"sum by (cluster) (count_over_time({job="mysql"}[5m]))"#,
    r#"sum by (cluster) (count_over_time({job="mysql"}[5m] offset 10m))"#,
    r#"sum by (cluster) (count_over_time({job="mysql"}[5m])) / sum by (cluster) (count_over_time({job="postgres"}[5m])) "#,
    r#"sum by (cluster) (count_over_time({job="mysql"}[5m] offset 10m)) / sum by (cluster) (count_over_time({job="postgres"}[5m] offset 10m)) "#,
    r#"
		sum by (cluster) (count_over_time({job="postgres"}[5m])) /
		sum by (cluster) (count_over_time({job="postgres"}[5m])) /
		sum by (cluster) (count_over_time({job="postgres"}[5m]))
		"#,
    r#"sum by (cluster) (count_over_time({job="mysql"}[5m])) / min(count_over_time({job="mysql"}[5m])) "#,
    r#"sum by (job) (
			count_over_time({namespace="tns"} |= "level=error"[5m])
		/
			count_over_time({namespace="tns"}[5m])
		)"#,
    r#"stdvar_over_time({app="foo"} |= "bar" | json | latency >= 250ms or ( status_code < 500 and status_code > 200)
		| line_format "blip{{ .foo }}blop {{.status_code}}" | label_format foo=bar,status_code="buzz{{.bar}}" | unwrap foo [5m])"#,
    r#"stdvar_over_time({app="foo"} |= "bar" | json | latency >= 250ms or ( status_code < 500 and status_code > 200)
		| line_format "blip{{ .foo }}blop {{.status_code}}" | label_format foo=bar,status_code="buzz{{.bar}}" | unwrap foo [5m] offset 10m)"#,
    r#"sum_over_time({namespace="tns"} |= "level=error" | json |foo>=5,bar<25ms|unwrap latency [5m])"#,
    r#"sum by (job) (
			sum_over_time({namespace="tns"} |= "level=error" | json | foo=5 and bar<25ms | unwrap latency[5m])
		/
			count_over_time({namespace="tns"} | logfmt | label_format foo=bar[5m])
		)"#,
    r#"sum by (job) (
			sum_over_time({namespace="tns"} |= "level=error" | json | foo=5 and bar<25ms | unwrap bytes(latency)[5m])
		/
			count_over_time({namespace="tns"} | logfmt | label_format foo=bar[5m])
		)"#,
    r#"sum by (job) (
			sum_over_time(
				{namespace="tns"} |= "level=error" | json | avg=5 and bar<25ms | unwrap duration(latency) [5m]
			)
		/
			count_over_time({namespace="tns"} | logfmt | label_format foo=bar[5m])
		)"#,
    r#"sum_over_time({namespace="tns"} |= "level=error" | json |foo>=5,bar<25ms | unwrap latency | __error__!~".*" | foo >5[5m])"#,
    r#"last_over_time({namespace="tns"} |= "level=error" | json |foo>=5,bar<25ms | unwrap latency | __error__!~".*" | foo >5[5m])"#,
    r#"first_over_time({namespace="tns"} |= "level=error" | json |foo>=5,bar<25ms | unwrap latency | __error__!~".*" | foo >5[5m])"#,
    r#"absent_over_time({namespace="tns"} |= "level=error" | json |foo>=5,bar<25ms | unwrap latency | __error__!~".*" | foo >5[5m])"#,
    r#"sum by (job) (
			sum_over_time(
				{namespace="tns"} |= "level=error" | json | avg=5 and bar<25ms | unwrap duration(latency)  | __error__!~".*" [5m]
			)
		/
			count_over_time({namespace="tns"} | logfmt | label_format foo=bar[5m])
		)"#,
    r#"label_replace(
			sum by (job) (
				sum_over_time(
					{namespace="tns"} |= "level=error" | json | avg=5 and bar<25ms | unwrap duration(latency)  | __error__!~".*" [5m]
				)
			/
				count_over_time({namespace="tns"} | logfmt | label_format foo=bar[5m])
			),
			"foo",
			"$1",
			"service",
			"(.*):.*"
		)
		"#,
    r#"10 / (5/2)"#,
    r#"(count_over_time({job="postgres"}[5m])/2) or vector(2)"#,
    r#"10 / (count_over_time({job="postgres"}[5m])/2)"#,
    r#"{app="foo"} | json response_status="response.status.code", first_param="request.params[0]""#,
    r#"label_replace(
			sum by (job) (
				sum_over_time(
					{namespace="tns"} |= "level=error" | json | avg=5 and bar<25ms | unwrap duration(latency)  | __error__!~".*" [5m] offset 1h
				)
			/
				count_over_time({namespace="tns"} | logfmt | label_format foo=bar[5m] offset 1h)
			),
			"foo",
			"$1",
			"service",
			"(.*):.*"
		)
		"#,
    r#"(((
			sum by(typename,pool,commandname,colo)(sum_over_time({_namespace_="appspace", _schema_="appspace-1min", pool=~"r1testlvs", colo=~"slc|lvs|rno", env!~"(pre-production|sandbox)"} | logfmt | status!="0" | ( ( type=~"(?i)^(Error|Exception|Fatal|ERRPAGE|ValidationError)$" or typename=~"(?i)^(Error|Exception|Fatal|ERRPAGE|ValidationError)$" ) or status=~"(?i)^(Error|Exception|Fatal|ERRPAGE|ValidationError)$" ) | commandname=~"(?i).*|UNSET" | unwrap sumcount[5m])) / 60)
				or on ()
				((sum by(typename,pool,commandname,colo)(sum_over_time({_namespace_="appspace", _schema_="appspace-15min", pool=~"r1testlvs", colo=~"slc|lvs|rno", env!~"(pre-production|sandbox)"} | logfmt | status!="0" | ( ( type=~"(?i)^(Error|Exception|Fatal|ERRPAGE|ValidationError)$" or typename=~"(?i)^(Error|Exception|Fatal|ERRPAGE|ValidationError)$" ) or status=~"(?i)^(Error|Exception|Fatal|ERRPAGE|ValidationError)$" ) | commandname=~"(?i).*|UNSET" | unwrap sumcount[5m])) / 15) / 60))
				or on ()
				((sum by(typename,pool,commandname,colo) (sum_over_time({_namespace_="appspace", _schema_="appspace-1h", pool=~"r1testlvs", colo=~"slc|lvs|rno", env!~"(pre-production|sandbox)"} | logfmt | status!="0" | ( ( type=~"(?i)^(Error|Exception|Fatal|ERRPAGE|ValidationError)$" or typename=~"(?i)^(Error|Exception|Fatal|ERRPAGE|ValidationError)$" ) or status=~"(?i)^(Error|Exception|Fatal|ERRPAGE|ValidationError)$" ) | commandname=~"(?i).*|UNSET" | unwrap sumcount[5m])) / 60) / 60))"#,
    r#"{app="foo"} | logfmt code="response.code", IPAddress="host""#,
];

const STRINGER: &[(&str, &str)] = &[
    (r#"1 > 1 > 1"#, r#"0"#),
    (r#"1.6"#, r#"1.6"#),
    (r#"1 > 1 > bool 1"#, r#"0"#),
    (r#"1 > bool 1 > count_over_time({foo="bar"}[1m])"#, r#"(0 > count_over_time({foo="bar"}[1m]))"#),
    (r#"1 > bool 1 > bool count_over_time({foo="bar"}[1m])"#, r#"(0 > bool count_over_time({foo="bar"}[1m]))"#),
    (r#"0 > count_over_time({foo="bar"}[1m])"#, r#"(0 > count_over_time({foo="bar"}[1m]))"#),
    (r#"{app="foo"} |= "foo" or "bar""#, r#"{app="foo"} |= "foo" or "bar""#),
    (r#"{app="foo"} |= "foo" or "bar" or "baz""#, r#"{app="foo"} |= "foo" or "bar" or "baz""#),
    (r#"{app="foo"} |= "foo" or "bar" or "baz" |= "car""#, r#"{app="foo"} |= "foo" or "bar" or "baz" |= "car""#),
    (
        r#"{app="foo"} |= "foo" or "bar" or "baz" |= "car" |= "a" or "b" or "c""#,
        r#"{app="foo"} |= "foo" or "bar" or "baz" |= "car" |= "a" or "b" or "c""#,
    ),
    (r#"{app="foo"} |~ "foo" or "bar" or "baz""#, r#"{app="foo"} |~ "foo" or "bar" or "baz""#),
    (r#"{app="foo"} |= "foo" or "bar" |= "buzz" or "fizz""#, r#"{app="foo"} |= "foo" or "bar" |= "buzz" or "fizz""#),
    (r#"{app="foo"} |= "foo" or "bar" |~ "buzz|fizz""#, r#"{app="foo"} |= "foo" or "bar" |~ "buzz|fizz""#),
    (r#"{app="foo"} |= ip("127.0.0.1") or "foo""#, r#"{app="foo"} |= ip("127.0.0.1") or "foo""#),
    (r#"{app="foo"} |= "foo" or ip("127.0.0.1")"#, r#"{app="foo"} |= "foo" or ip("127.0.0.1")"#),
    (r#"{app="foo"} |~ ip("127.0.0.1") or "foo""#, r#"{app="foo"} |~ ip("127.0.0.1") or "foo""#),
    (
        r#"{app="foo"} |= ip("10.0.0.0/8") or ip("192.168.0.0/16") or "baz""#,
        r#"{app="foo"} |= ip("10.0.0.0/8") or ip("192.168.0.0/16") or "baz""#,
    ),
    (
        r#"{app="foo"} |= "baz" or ip("10.0.0.0/8") or ip("192.168.0.0/16")"#,
        r#"{app="foo"} |= "baz" or ip("10.0.0.0/8") or ip("192.168.0.0/16")"#,
    ),
    (r#"{app="foo"} |= "baz" or ip("10.0.0.0/8") or "qux""#, r#"{app="foo"} |= "baz" or ip("10.0.0.0/8") or "qux""#),
    (
        r#"{app="foo"} |= ip("10.0.0.0/8") or ip("192.168.0.0/16") or ip("172.16.0.0/12") or "baz""#,
        r#"{app="foo"} |= ip("10.0.0.0/8") or ip("192.168.0.0/16") or ip("172.16.0.0/12") or "baz""#,
    ),
    (
        r#"{app="foo"} != ip("10.0.0.0/8") or ip("192.168.0.0/16") or "baz""#,
        r#"{app="foo"} != ip("10.0.0.0/8") != ip("192.168.0.0/16") != "baz""#,
    ),
    (r#"{app="foo"} |> "foo <_> baz" or "foo <_>""#, r#"{app="foo"} |> "foo <_> baz" or "foo <_>""#),
    (
        r#"{app="foo"} |> "foo <_> baz" or "foo <_>" |> "foo <_> baz""#,
        r#"{app="foo"} |> "foo <_> baz" or "foo <_>" |> "foo <_> baz""#,
    ),
    (r#"{app="foo"} != "foo" or "bar""#, r#"{app="foo"} != "foo" != "bar""#),
    (r#"{app="foo"} != "test" != "foo" or "bar""#, r#"{app="foo"} != "test" != "foo" != "bar""#),
    (r#"{app="foo"} != "test" != "foo" or "bar" or "baz""#, r#"{app="foo"} != "test" != "foo" != "bar" != "baz""#),
    (r#"{app="foo"} != "foo" or "bar" or "baz" != "car""#, r#"{app="foo"} != "foo" != "bar" != "baz" != "car""#),
    (
        r#"{app="foo"} != "foo" or "bar" or "baz" != "car" != "a" or "b" or "c""#,
        r#"{app="foo"} != "foo" != "bar" != "baz" != "car" != "a" != "b" != "c""#,
    ),
    (
        r#"{app="foo"} |= "foo" or "bar" or "baz" != "car" != "a" or "b" or "c""#,
        r#"{app="foo"} |= "foo" or "bar" or "baz" != "car" != "a" != "b" != "c""#,
    ),
    (r#"{app="foo"} !~ "foo" or "bar""#, r#"{app="foo"} !~ "foo" !~ "bar""#),
    (r#"{app="foo"} !~ "test" !~ "foo" or "bar""#, r#"{app="foo"} !~ "test" !~ "foo" !~ "bar""#),
    (r#"{app="foo"} !~ "test" !~ "foo" or "bar" or "baz""#, r#"{app="foo"} !~ "test" !~ "foo" !~ "bar" !~ "baz""#),
    (r#"{app="foo"} !~ "foo" or "bar" or "baz" !~ "car""#, r#"{app="foo"} !~ "foo" !~ "bar" !~ "baz" !~ "car""#),
    (
        r#"{app="foo"} !~ "foo" or "bar" or "baz" !~ "car" !~ "a" or "b" or "c""#,
        r#"{app="foo"} !~ "foo" !~ "bar" !~ "baz" !~ "car" !~ "a" !~ "b" !~ "c""#,
    ),
    (
        r#"{app="foo"} |~ "foo" or "bar" or "baz" !~ "car" !~ "a" or "b" or "c""#,
        r#"{app="foo"} |~ "foo" or "bar" or "baz" !~ "car" !~ "a" !~ "b" !~ "c""#,
    ),
    (r#"{app="foo"} != ip("127.0.0.1") or "foo""#, r#"{app="foo"} != ip("127.0.0.1") != "foo""#),
    (r#"{app="foo"} !~ ip("127.0.0.1") or "foo""#, r#"{app="foo"} !~ ip("127.0.0.1") !~ "foo""#),
    (
        r#"{app="foo"} !> "<_> foo <_>" or "foo <_>" !> "foo <_> baz""#,
        r#"{app="foo"} !> "<_> foo <_>" !> "foo <_>" !> "foo <_> baz""#,
    ),
];

#[test]
fn exact_printing() {
    for q in EXACT {
        let e = parse(q).unwrap_or_else(|e| panic!("{q}: {e}"));
        assert_eq!(e.to_string(), *q);
    }
}

#[test]
fn round_trips() {
    for q in ROUND_TRIP {
        let e = parse(q).unwrap_or_else(|e| panic!("{q}: {e}"));
        let s = e.to_string();
        let e2 = parse(&s).unwrap_or_else(|e| panic!("reparse {s}: {e}"));
        assert_eq!(e, e2, "{q}");
    }
}

#[test]
fn stringer() {
    for (i, o) in STRINGER {
        let e = parse(i).unwrap_or_else(|e| panic!("{i}: {e}"));
        assert_eq!(e.to_string(), *o, "{i}");
    }
}
