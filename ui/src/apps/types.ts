// The answers of `GET /api/apps` and `GET /api/apps/containers/{id}` (contract 13 B), and their fetches.
import { apiGet } from '../api';

export type ContainerState = 'running' | 'restarting' | 'exited' | 'paused' | 'dead' | 'created' | 'removing' | 'unknown';

export interface Container {
  id: string;
  name: string;
  docker_name: string;
  app: string | null;
  process_type: string | null;
  dyno: string | null;
  state: ContainerState;
  health: 'healthy' | 'unhealthy' | 'starting' | null;
  restart_count: number;
  exit_code: number | null;
  oom_killed: boolean;
  started_at: string | null;
  finished_at: string | null;
  created_at: string | null;
  image: string;
  image_id: string | null;
  cpu_percent: number | null;
  memory_bytes: number | null;
  memory_limit_bytes: number | null;
}

export interface Deploy {
  at: string;
  image: string;
  image_id: string | null;
  old_image: string | null;
  old_image_id: string | null;
  took_seconds: number | null;
  container: string;
}

export interface AppInfo {
  kind: 'app' | 'container';
  name: string;
  selector: string;
  process_types: string[];
  containers: Container[];
  last_deploy: Deploy | null;
  lines_per_minute: number[];
  errors_per_minute: number[];
  last_error: { ts: string; line: string } | null;
}

export interface AppsAnswer {
  engine: boolean;
  now: string;
  minutes_start: number;
  apps: AppInfo[];
}

export const fetchApps = (signal?: AbortSignal) => apiGet<AppsAnswer>('/api/apps', {}, { signal });

export const fetchContainer = (id: string, signal?: AbortSignal) => apiGet<Container>(`/api/apps/containers/${encodeURIComponent(id)}`, {}, { signal });

/** The 12-hex short id Docker shows and the agent records as `container_id`. */
export const shortId = (id: string) => id.slice(0, 12);

export const containerUrl = (id: string) => `/apps/container/${shortId(id)}`;
