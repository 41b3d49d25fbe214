import { createSignal } from 'solid-js';

// The theme is set before the app starts (index.html) from localStorage or the system preference.
const [theme, setThemeSignal] = createSignal(document.documentElement.dataset.theme === 'light' ? 'light' : 'dark');
export { theme };

export function setTheme(t: 'light' | 'dark') {
  document.documentElement.dataset.theme = t;
  setThemeSignal(t);
  try {
    localStorage.setItem('bitacora.theme', t);
  } catch {}
}
