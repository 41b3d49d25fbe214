// Grafana's unit ids most dashboards use, grouped as Grafana's unit picker groups them.
export const UNITS: [string, [string, string][]][] = [
  ['Misc', [['none', 'None'], ['short', 'Short'], ['percent', 'Percent (0-100)'], ['percentunit', 'Percent (0.0-1.0)'], ['string', 'String']]],
  ['Data', [['bytes', 'bytes(IEC)'], ['decbytes', 'bytes(SI)'], ['bits', 'bits(IEC)'], ['kbytes', 'kibibytes'], ['mbytes', 'mebibytes'], ['gbytes', 'gibibytes']]],
  ['Data rate', [['Bps', 'bytes/sec(IEC)'], ['binBps', 'bytes/sec(SI)'], ['bps', 'bits/sec(IEC)'], ['KiBs', 'kibibytes/sec'], ['MiBs', 'mebibytes/sec']]],
  ['Throughput', [['reqps', 'requests/sec (rps)'], ['ops', 'ops/sec (ops)'], ['rps', 'reads/sec (rps)'], ['wps', 'writes/sec (wps)'], ['cps', 'counts/sec (cps)'], ['opm', 'ops/min (opm)'], ['cpm', 'counts/min (cpm)']]],
  ['Time', [['ns', 'nanoseconds (ns)'], ['µs', 'microseconds (µs)'], ['ms', 'milliseconds (ms)'], ['s', 'seconds (s)'], ['m', 'minutes (m)'], ['h', 'hours (h)'], ['d', 'days (d)'], ['dtdurations', 'duration (d hh:mm:ss)']]],
  ['Date & time', [['dateTimeAsIso', 'Datetime ISO'], ['dateTimeFromNow', 'From Now']]],
];

export const UNIT_IDS = new Set(UNITS.flatMap(([, us]) => us.map(([id]) => id)));
