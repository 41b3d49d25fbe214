// What every panel component receives.
import type { Vars } from '../interpolate';
import type { Panel } from '../model';
import type { PanelData } from '../query';

export interface PanelProps {
  panel: Panel;
  data: PanelData;
  range: { from: number; to: number };
  vars: Vars;
  /** Charts with the same key share the crosshair. */
  syncKey: string;
  onZoom: (fromMs: number, toMs: number) => void;
  /** Called once the panel has drawn its data (the view marks it `data-state="done"`). */
  onDrawn: () => void;
}

/** The panel's field defaults, never undefined. */
export const defaultsOf = (p: Panel) => p.fieldConfig?.defaults ?? {};
