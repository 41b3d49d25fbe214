// A stand-in for the dashboard HTTP API (Grafana's shapes) while the server has none yet (the
// `dash` branch brings the real one): a loopback HTTP server in front of a real bitacora server,
// answering /api/search, /api/dashboards/..., /api/folders and /api/datasources itself (dashboards
// kept in memory), forwarding /api/datasources/proxy/uid/<uid>/... to the configured data source
// (a real Prometheus, or bitacora itself) and everything else to bitacora. Tests use it only when
// the server answers /api/search with 404.
import { createServer, request } from 'node:http';

export async function serverHasDashboards(base) {
  const r = await fetch(`${base}/api/search`);
  return r.status !== 404;
}

function forward(req, res, target, path) {
  const u = new URL(path, target);
  const p = request(u, { method: req.method, headers: { ...req.headers, host: u.host } }, (up) => {
    res.writeHead(up.statusCode, up.headers);
    up.pipe(res);
  });
  p.on('error', (e) => res.writeHead(502).end(`proxy error: ${e.message}`));
  req.pipe(p);
}

const slug = (t) => t.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');

/** Starts the stand-in; `datasources` are Grafana data source entries with a `url` each. */
export function dashboardFixture(bitacora, datasources) {
  const dashboards = new Map();
  const json = (res, code, body) => res.writeHead(code, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  const srv = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const p = url.pathname;
    const proxy = /^\/api\/datasources\/proxy\/uid\/([^/]+)\/(.*)$/.exec(p);
    if (proxy) {
      const ds = datasources.find((d) => d.uid === proxy[1]);
      if (!ds) return json(res, 404, { message: 'Data source not found' });
      return forward(req, res, ds.url, `/${proxy[2]}${url.search}`);
    }
    if (p === '/api/datasources') return json(res, 200, datasources.map(({ url: _u, ...d }) => d));
    if (p === '/api/folders') return json(res, 200, []);
    if (p === '/api/dashboards/tags') {
      const c = new Map();
      for (const d of dashboards.values()) for (const t of d.tags ?? []) c.set(t, (c.get(t) ?? 0) + 1);
      return json(res, 200, [...c].map(([term, count]) => ({ term, count })));
    }
    if (p === '/api/search') {
      const q = (url.searchParams.get('query') ?? '').toLowerCase();
      const tags = url.searchParams.getAll('tag');
      const hits = [...dashboards.values()]
        .filter((d) => d.title.toLowerCase().includes(q) && tags.every((t) => (d.tags ?? []).includes(t)))
        .map((d) => ({ uid: d.uid, title: d.title, url: `/d/${d.uid}/${slug(d.title)}`, slug: slug(d.title), type: 'dash-db', tags: d.tags ?? [], folderUid: '', folderTitle: '' }));
      return json(res, 200, hits);
    }
    const one = /^\/api\/dashboards\/uid\/([^/]+)$/.exec(p);
    if (one && req.method === 'GET') {
      const d = dashboards.get(decodeURIComponent(one[1]));
      if (!d) return json(res, 404, { message: 'Dashboard not found' });
      return json(res, 200, { dashboard: d, meta: { slug: slug(d.title), url: `/d/${d.uid}/${slug(d.title)}`, version: d.version, canSave: true, canEdit: true, provisioned: false, folderTitle: 'General', folderUid: '' } });
    }
    if (p === '/api/dashboards/db' && req.method === 'POST') {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const { dashboard } = JSON.parse(body);
        const d = { ...dashboard, version: (dashboards.get(dashboard.uid)?.version ?? 0) + 1 };
        dashboards.set(d.uid, d);
        json(res, 200, { uid: d.uid, url: `/d/${d.uid}/${slug(d.title)}`, version: d.version, status: 'success' });
      });
      return;
    }
    forward(req, res, bitacora, req.url);
  });
  return new Promise((ok) =>
    srv.listen(0, '127.0.0.1', () =>
      ok({ base: `http://127.0.0.1:${srv.address().port}`, close: () => new Promise((r) => (srv.closeAllConnections(), srv.close(r))) }),
    ),
  );
}
