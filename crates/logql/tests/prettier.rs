//! Pretty-printing as Loki's prettifier does (its golden outputs use a 20-character width).

use logql::format_query_width;

const CASES: &[(&str, &str)] = &[
    ("{job=\"loki\", instance=\"localhost\"}", "{job=\"loki\", instance=\"localhost\"}"),
    (
        "{job=\"loki\", instance=\"localhost\"}|logfmt|level=\"error\" ",
        "{job=\"loki\", instance=\"localhost\"}\n  | logfmt\n  | level=\"error\"",
    ),
    (
        "{job=\"loki\", instance=\"localhost\"}|= \"error\" != \"memcached\" |= ip(\"192.168.0.1\") |logfmt",
        "{job=\"loki\", instance=\"localhost\"}\n  |= \"error\"\n  != \"memcached\"\n  |= ip(\"192.168.0.1\")\n  | logfmt",
    ),
    (
        "{job=\"loki\", instance=\"localhost\"}|logfmt|line_format \"{{.error}}\"",
        "{job=\"loki\", instance=\"localhost\"}\n  | logfmt\n  | line_format \"{{.error}}\"",
    ),
    (
        "{job=\"loki\", instance=\"localhost\"}|logfmt|label_format dst=\"{{.src}}\"",
        "{job=\"loki\", instance=\"localhost\"}\n  | logfmt\n  | label_format dst=\"{{.src}}\"",
    ),
    (
        "count_over_time({job=\"loki\", instance=\"localhost\"}|logfmt[1m])",
        "count_over_time(\n  {job=\"loki\", instance=\"localhost\"}\n    | logfmt [1m]\n)",
    ),
    (
        "count_over_time({job=\"loki\", instance=\"localhost\"}|= \"error\"[5m] offset 20m)",
        "count_over_time(\n  {job=\"loki\", instance=\"localhost\"}\n    |= \"error\" [5m] offset 20m\n)",
    ),
    (
        "quantile_over_time(0.99,{container=\"ingress-nginx\",service=\"hosted-grafana\"}| json| unwrap response_latency_seconds| __error__=\"\"[1m]) by (cluster)",
        "quantile_over_time(\n  0.99,\n  {container=\"ingress-nginx\", service=\"hosted-grafana\"}\n    | json\n    | unwrap response_latency_seconds\n    | __error__=\"\" [1m]\n) by (cluster)",
    ),
    (
        "count_over_time({job=\"loki\", instance=\"localhost\"}|= \"error\" != \"memcached\" |= ip(\"192.168.0.1\") |logfmt[1m])",
        "count_over_time(\n  {job=\"loki\", instance=\"localhost\"}\n    |= \"error\"\n    != \"memcached\"\n    |= ip(\"192.168.0.1\")\n    | logfmt [1m]\n)",
    ),
    (
        "{job=\"loki\", namespace=\"loki-prod\", container=\"nginx-ingress\"}| json first_server=\"servers[0]\", ua=\"request.headers[\\\"User-Agent\\\"]\" | level=\"error\"",
        "{job=\"loki\", namespace=\"loki-prod\", container=\"nginx-ingress\"}\n  | json first_server=\"servers[0]\",ua=\"request.headers[\\\"User-Agent\\\"]\"\n  | level=\"error\"",
    ),
    (
        "sum(count_over_time({foo=\"bar\",namespace=\"loki\",instance=\"localhost\"}[5m])) by (container)",
        "sum by (container)(\n  count_over_time(\n    {foo=\"bar\", namespace=\"loki\", instance=\"localhost\"} [5m]\n  )\n)",
    ),
    (
        "topk(5, count_over_time({foo=\"bar\",namespace=\"loki\",instance=\"localhost\"}[5m])) by (container)",
        "topk by (container)(\n  5,\n  count_over_time(\n    {foo=\"bar\", namespace=\"loki\", instance=\"localhost\"} [5m]\n  )\n)",
    ),
    (
        "label_replace(rate({job=\"api-server\",service=\"a:c\"}|= \"err\" [5m]), \"foo\", \"$1\", \"service\", \"(.*):.*\")",
        "label_replace(\n  rate(\n    {job=\"api-server\", service=\"a:c\"}\n      |= \"err\" [5m]\n  ),\n  \"foo\",\n  \"$1\",\n  \"service\",\n  \"(.*):.*\"\n)",
    ),
    (
        "label_replace(label_replace(rate({job=\"api-server\",service=\"a:c\"}|= \"err\" [5m]), \"foo\", \"$1\", \"service\", \"(.*):.*\"), \"foo\", \"$1\", \"service\", \"(.*):.*\")",
        "label_replace(\n  label_replace(\n    rate(\n      {job=\"api-server\", service=\"a:c\"}\n        |= \"err\" [5m]\n    ),\n    \"foo\",\n    \"$1\",\n    \"service\",\n    \"(.*):.*\"\n  ),\n  \"foo\",\n  \"$1\",\n  \"service\",\n  \"(.*):.*\"\n)",
    ),
    (
        "sum(rate({job=\"loki\", namespace=\"loki-prod\", instance=\"localhost\"}[5m]))/sum(count_over_time({job=\"loki\", namespace=\"loki-prod\", instance=\"localhost\"}[5m]))",
        "  sum(\n    rate(\n      {job=\"loki\", namespace=\"loki-prod\", instance=\"localhost\"} [5m]\n    )\n  )\n/\n  sum(\n    count_over_time(\n      {job=\"loki\", namespace=\"loki-prod\", instance=\"localhost\"} [5m]\n    )\n  )",
    ),
    (
        "sum(rate({job=\"loki\"}[5m])) + sum(rate({job=\"loki-dev\"}[5m])) / sum(rate({job=\"loki-prod\"}[5m]))",
        "  sum(\n    rate(\n      {job=\"loki\"} [5m]\n    )\n  )\n+\n    sum(\n      rate(\n        {job=\"loki-dev\"} [5m]\n      )\n    )\n  /\n    sum(\n      rate(\n        {job=\"loki-prod\"} [5m]\n      )\n    )",
    ),
    (
        "sum(rate({job=\"loki\"}[5m])) / sum(rate({job=\"loki-dev\"}[5m])) + sum(rate({job=\"loki-prod\"}[5m]))",
        "    sum(\n      rate(\n        {job=\"loki\"} [5m]\n      )\n    )\n  /\n    sum(\n      rate(\n        {job=\"loki-dev\"} [5m]\n      )\n    )\n+\n  sum(\n    rate(\n      {job=\"loki-prod\"} [5m]\n    )\n  )",
    ),
    (
        "sum(rate({job=\"loki\"}[5m])) - sum(rate({job=\"loki-stage\"}[5m])) / sum(rate({job=\"loki-dev\"}[5m])) + sum(rate({job=\"loki-prod\"}[5m]))",
        "    sum(\n      rate(\n        {job=\"loki\"} [5m]\n      )\n    )\n  -\n      sum(\n        rate(\n          {job=\"loki-stage\"} [5m]\n        )\n      )\n    /\n      sum(\n        rate(\n          {job=\"loki-dev\"} [5m]\n        )\n      )\n+\n  sum(\n    rate(\n      {job=\"loki-prod\"} [5m]\n    )\n  )",
    ),
    (
        "sum(rate({job=\"loki\"}[5m])) - sum(rate({job=\"loki-stage\"}[5m])) % sum(rate({job=\"loki-dev\"}[5m])) + sum(rate({job=\"loki-prod\"}[5m]))",
        "    sum(\n      rate(\n        {job=\"loki\"} [5m]\n      )\n    )\n  -\n      sum(\n        rate(\n          {job=\"loki-stage\"} [5m]\n        )\n      )\n    %\n      sum(\n        rate(\n          {job=\"loki-dev\"} [5m]\n        )\n      )\n+\n  sum(\n    rate(\n      {job=\"loki-prod\"} [5m]\n    )\n  )",
    ),
    (
        "sum(rate({job=\"loki\"}[5m])) / sum(rate({job=\"loki-stage\"}[5m])) % sum(rate({job=\"loki-dev\"}[5m])) + sum(rate({job=\"loki-prod\"}[5m]))",
        "      sum(\n        rate(\n          {job=\"loki\"} [5m]\n        )\n      )\n    /\n      sum(\n        rate(\n          {job=\"loki-stage\"} [5m]\n        )\n      )\n  %\n    sum(\n      rate(\n        {job=\"loki-dev\"} [5m]\n      )\n    )\n+\n  sum(\n    rate(\n      {job=\"loki-prod\"} [5m]\n    )\n  )",
    ),
    (
        "sum(rate({job=\"loki\"}[5m])) / sum(rate({job=\"loki-stage\"}[5m])) % sum(rate({job=\"loki-dev\"}[5m])) * sum(rate({job=\"loki-prod\"}[5m]))",
        "      sum(\n        rate(\n          {job=\"loki\"} [5m]\n        )\n      )\n    /\n      sum(\n        rate(\n          {job=\"loki-stage\"} [5m]\n        )\n      )\n  %\n    sum(\n      rate(\n        {job=\"loki-dev\"} [5m]\n      )\n    )\n*\n  sum(\n    rate(\n      {job=\"loki-prod\"} [5m]\n    )\n  )",
    ),
    (
        "sum(rate({job=\"loki\"}[5m])) * on(instance, job) group_left (node) sum(rate({job=\"loki-prod\"}[5m]))",
        "  sum(\n    rate(\n      {job=\"loki\"} [5m]\n    )\n  )\n* on (instance, job) group_left (node)\n  sum(\n    rate(\n      {job=\"loki-prod\"} [5m]\n    )\n  )",
    ),
];

#[test]
fn prettier_golden() {
    let mut bad = 0;
    for (q, want) in CASES {
        let got = format_query_width(q, 20).unwrap_or_else(|e| panic!("{q}: {e}"));
        if got != *want {
            bad += 1;
            println!("{q}\n--- want\n{want}\n--- got\n{got}\n");
        }
    }
    println!("prettier: {} of {} differ", bad, CASES.len());
    assert_eq!(bad, 0, "prettier output differs from Loki");
}
