//! Loki's template functions on Go values: `fromJson` maps and lists read with `.field`,
//! `index`, `range` and `with`; `duration` with `time.Duration.Seconds()`'s rounding; times in
//! real zones (`toDateInZone`, `toDate`, `date`, `unixEpoch`, `unixToTime`) as Go's `time`
//! package and Sprig compute them. Expected answers are Go's.

use gotemplate::{FuncSet, NoHost, Value};

fn run(text: &str) -> Result<String, String> {
    FuncSet::Sprig.parse(text, "line")?.execute_with(&Value::Nil, &NoHost, &[])
}

fn table(cases: &[(&str, &str)]) {
    let mut bad = Vec::new();
    for (text, want) in cases {
        match run(text) {
            Ok(got) if got == *want => {}
            got => bad.push(format!("{text}\n  want {want:?}\n  got  {got:?}")),
        }
    }
    assert!(bad.is_empty(), "{} of {} differ from Go:\n{}", bad.len(), cases.len(), bad.join("\n"));
}

const DOC: &str =
    r#"{{ $m := fromJson "{\"a\":1,\"b\":[1,2.5,\"s\"],\"c\":{\"d\":\"x\",\"e\":true},\"n\":null,\"big\":1e21}" }}"#;

#[test]
fn from_json_values() {
    let cases: Vec<(String, &str)> = vec![
        (format!("{DOC}{{{{ $m.a }}}}"), "1"),
        (format!("{DOC}{{{{ $m.big }}}}"), "1e+21"),
        (format!("{DOC}{{{{ $m.c.d }}}}|{{{{ $m.c.e }}}}"), "x|true"),
        (format!("{DOC}{{{{ index $m \"b\" 1 }}}}"), "2.5"),
        (format!("{DOC}{{{{ index $m.c \"d\" }}}}"), "x"),
        (
            format!("{DOC}{{{{ $m.n }}}}|{{{{ $m.missing }}}}|{{{{ index $m \"missing\" }}}}"),
            "<no value>|<no value>|<no value>",
        ),
        (format!("{DOC}{{{{ $m.b }}}}"), "[1 2.5 s]"),
        (format!("{DOC}{{{{ $m }}}}"), "map[a:1 b:[1 2.5 s] big:1e+21 c:map[d:x e:true] n:<nil>]"),
        (format!("{DOC}{{{{ len $m }}}} {{{{ len $m.b }}}}"), "5 3"),
        (
            format!("{DOC}{{{{ printf \"%T %T %T %T\" $m $m.b $m.a $m.c.e }}}}"),
            "map[string]interface {} []interface {} float64 bool",
        ),
        (format!("{DOC}{{{{ printf \"%v|%d|%05.1f\" $m.c $m.a $m.a }}}}"), "map[d:x e:true]|%!d(float64=1)|001.0"),
        // range over a map visits keys in order; over a list, index and element
        (format!("{DOC}{{{{ range $k, $v := $m.c }}}}{{{{ $k }}}}={{{{ $v }}}};{{{{ end }}}}"), "d=x;e=true;"),
        (format!("{DOC}{{{{ range $m.c }}}}[{{{{ . }}}}]{{{{ end }}}}"), "[x][true]"),
        (format!("{DOC}{{{{ range $i, $v := $m.b }}}}{{{{ $i }}}}:{{{{ $v }}}} {{{{ end }}}}"), "0:1 1:2.5 2:s "),
        (format!("{DOC}{{{{ with $m.c }}}}{{{{ .d }}}}{{{{ end }}}}"), "x"),
        (format!("{DOC}{{{{ with $m.missing }}}}yes{{{{ else }}}}no{{{{ end }}}}"), "no"),
        (r#"{{ with fromJson "{}" }}full{{ else }}empty{{ end }}"#.into(), "empty"),
        (r#"{{ range fromJson "[]" }}x{{ else }}none{{ end }}"#.into(), "none"),
        (r#"{{ fromJson "not json" }}"#.into(), "<no value>"),
        (r#"{{ fromJson "\"s\"" }} {{ fromJson "3" }} {{ fromJson "[1,[2]]" }}"#.into(), "s 3 [1 [2]]"),
        (r#"{{ (fromJson "{\"a\":{\"b\":{\"c\":7}}}").a.b.c }}"#.into(), "7"),
    ];
    let cases: Vec<(&str, &str)> = cases.iter().map(|(a, b)| (a.as_str(), *b)).collect();
    table(&cases);
}

#[test]
fn durations_round_as_go() {
    table(&[
        // Duration.Seconds() = whole seconds + nanoseconds/1e9 (not nanoseconds/1e9)
        (r#"{{ duration "34293h33m9.012345678s" }}"#, "1.2345678901234567e+08"),
        (r#"{{ duration_seconds "1h2m3.5s" }}"#, "3723.5"),
        (r#"{{ duration "-1.5ms" }}"#, "-0.0015"),
        (r#"{{ printf "%.3f" (duration "2m30.0005s") }}"#, "150.000"), // 150.0005 is 150.000499.. as a float64
        (r#"{{ bytes "1.5KiB" }}"#, "1536"),
    ]);
}

#[test]
fn times_in_real_zones() {
    table(&[
        (
            r#"{{ toDateInZone "2006-01-02 15:04:05" "America/New_York" "2024-01-15 10:30:00" }}"#,
            "2024-01-15 10:30:00 -0500 EST",
        ),
        (
            r#"{{ toDateInZone "2006-01-02 15:04:05" "America/New_York" "2024-01-15 10:30:00" | unixEpoch }}"#,
            "1705332600",
        ),
        (
            r#"{{ toDateInZone "2006-01-02 15:04:05" "America/New_York" "2024-07-15 10:30:00" }}"#,
            "2024-07-15 10:30:00 -0400 EDT",
        ),
        (r#"{{ toDateInZone "2006-01-02 15:04" "Asia/Kolkata" "2024-07-15 10:30" }}"#, "2024-07-15 10:30:00 +0530 IST"),
        (
            r#"{{ toDateInZone "2006-01-02 15:04" "Australia/Lord_Howe" "2024-01-15 10:30" }}"#,
            "2024-01-15 10:30:00 +1100 +11",
        ),
        // a skipped wall-clock time lands before the gap, a repeated one on its first occurrence
        (
            r#"{{ toDateInZone "2006-01-02 15:04:05" "America/New_York" "2024-03-10 02:30:00" }}"#,
            "2024-03-10 01:30:00 -0500 EST",
        ),
        (
            r#"{{ toDateInZone "2006-01-02 15:04:05" "America/New_York" "2024-11-03 01:30:00" }}"#,
            "2024-11-03 01:30:00 -0400 EDT",
        ),
        // an offset in the text wins; the zone is kept when it agrees, else a fixed one
        (
            r#"{{ toDateInZone "2006-01-02T15:04:05Z07:00" "America/New_York" "2024-01-15T10:30:00+02:00" }}"#,
            "2024-01-15 10:30:00 +0200 +0200",
        ),
        (
            r#"{{ toDateInZone "2006-01-02T15:04:05Z07:00" "America/New_York" "2024-01-15T10:30:00-05:00" }}"#,
            "2024-01-15 10:30:00 -0500 EST",
        ),
        (
            r#"{{ toDateInZone "2006-01-02T15:04:05Z07:00" "America/New_York" "2024-01-15T10:30:00Z" }}"#,
            "2024-01-15 10:30:00 +0000 UTC",
        ),
        (r#"{{ toDateInZone "2006-01-02T15:04:05-0700" "UTC" "2024-01-15T10:30:00+0200" | unixEpoch }}"#, "1705307400"),
        // an unknown zone is UTC; text that does not parse is Go's zero time
        (r#"{{ toDateInZone "2006-01-02" "Mars/Olympus" "2024-01-15" }}"#, "2024-01-15 00:00:00 +0000 UTC"),
        (r#"{{ toDateInZone "2006-01-02" "UTC" "yesterday" }}"#, "0001-01-01 00:00:00 +0000 UTC"),
        (r#"{{ toDateInZone "2006-01-02" "UTC" "yesterday" | unixEpoch }}"#, "-62135596800"),
        (r#"{{ toDateInZone "2006-01-02" "UTC" "2024-02-30" }}"#, "0001-01-01 00:00:00 +0000 UTC"),
        (
            r#"{{ toDateInZone "2006-01-02 15:04:05.000" "Europe/Paris" "2024-06-01 12:00:00.250" | unixEpochMillis }}"#,
            "1717236000250",
        ),
        (r#"{{ printf "%T" (toDateInZone "2006" "UTC" "2024") }}"#, "time.Time"),
    ]);
    assert_eq!(
        run(r#"{{ "2024" | unixEpoch }}"#).unwrap_err(),
        "template: line:1:12: executing \"line\" at <unixEpoch>: wrong type for value; expected time.Time; got string"
    );
    // Sprig's dateInZone is not among the functions Loki registers
    assert_eq!(
        run(r#"{{ dateInZone "2006" 0 "UTC" }}"#).unwrap_err(),
        "template: line:1: function \"dateInZone\" not defined"
    );
}

/// `date`, `toDate`, `unixToTime` and `now` use the process' zone (Go's `time.Local`, from
/// `TZ`): checked in a child process of this test binary run with `TZ=Asia/Tokyo`.
#[test]
fn local_zone_from_tz() {
    if std::env::var_os("GOTEMPLATE_TZ_CHILD").is_some() {
        table(&[
            (
                r#"{{ date "2006-01-02 15:04 MST" (toDateInZone "2006-01-02 15:04" "UTC" "2024-01-15 20:00") }}"#,
                "2024-01-16 05:00 JST",
            ),
            (r#"{{ toDate "2006-01-02" "2024-01-15" }}"#, "2024-01-15 00:00:00 +0900 JST"),
            (r#"{{ toDate "2006-01-02" "2024-01-15" | unixEpoch }}"#, "1705244400"),
            (r#"{{ date "2006-01-02 15:04" 0 }}"#, "1970-01-01 09:00"),
            (r#"{{ unixToTime "1705332600" }}"#, "2024-01-16 00:30:00 +0900 JST"),
            (r#"{{ date "MST" now }}"#, "JST"),
        ]);
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args(["--exact", "local_zone_from_tz", "--nocapture", "--test-threads=1"])
        .env("TZ", "Asia/Tokyo")
        .env("GOTEMPLATE_TZ_CHILD", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && text.contains("1 passed"), "child run failed:\n{text}");
}
