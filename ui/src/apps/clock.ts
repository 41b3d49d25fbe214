// A ticking "now" for uptimes and relative times, stopped with the component that asked for it.
import { createSignal, onCleanup } from 'solid-js';

export function useNow(periodMs = 1000) {
  const [now, setNow] = createSignal(Date.now());
  const t = setInterval(() => setNow(Date.now()), periodMs);
  onCleanup(() => clearInterval(t));
  return now;
}
