// Panel types by their Grafana id; anything else is drawn by the placeholder.
import type { Component } from 'solid-js';
import type { PanelProps } from './types';
import TimeseriesPanel from './timeseries';
import BarchartPanel from './barchart';
import StatPanel from './stat';
import GaugePanel from './gauge';
import BargaugePanel from './bargauge';
import TablePanel from './table';
import LogsPanel from './logs';
import TextPanel from './text';
import UnknownPanel from './unknown';

export const PANEL_TYPES: Record<string, Component<PanelProps>> = {
  timeseries: TimeseriesPanel,
  barchart: BarchartPanel,
  stat: StatPanel,
  gauge: GaugePanel,
  bargauge: BargaugePanel,
  table: TablePanel,
  logs: LogsPanel,
  text: TextPanel,
};

/** The component drawing a panel type (the placeholder for types this viewer does not know). */
export const panelComponent = (type: string): Component<PanelProps> => PANEL_TYPES[type] ?? UnknownPanel;

/** Types whose panels run no queries. */
export const NO_QUERY = new Set(['text', 'row']);

export type { PanelProps };
