// The markers a dashboard fetched once for all its charts, and what a click on a deploy does;
// provided by the dashboard view, read by each time series panel.
import { createContext } from 'solid-js';
import type { Marker } from './events';

export interface MarkersShared {
  markers: () => Marker[];
  onDeploy: (m: Marker) => void;
}

export const MarkersContext = createContext<MarkersShared>();
