import './login.css';
import { createSignal, onMount, Show } from 'solid-js';
import { login, safeNext, loadSession } from './session';
import { navigate } from './router';

/** The login page: user name and password; on success back to where the browser was going. */
export default function Login() {
  const [error, setError] = createSignal<string | null>(null);
  const [busy, setBusy] = createSignal(false);
  let userInput: HTMLInputElement | undefined;
  let passInput: HTMLInputElement | undefined;
  const next = () => safeNext(new URLSearchParams(location.search).get('next'));
  onMount(async () => {
    // Already logged in, or no login needed: nothing to do here.
    const s = await loadSession();
    if (s && (s.user || !s.auth_enabled)) navigate(next());
    else userInput?.focus();
  });
  const submit = async (e: SubmitEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const err = await login(userInput!.value, passInput!.value);
    setBusy(false);
    if (err) {
      setError(err);
      passInput!.value = '';
      passInput!.focus();
    } else {
      navigate(next());
    }
  };
  return (
    <div class="login-wrap">
      <form class="login" onSubmit={submit} data-testid="login-form">
        <h1>Log in to Bitácora</h1>
        <label>
          User name
          <input ref={userInput} name="username" autocomplete="username" required data-testid="login-user" />
        </label>
        <label>
          Password
          <input ref={passInput} name="password" type="password" autocomplete="current-password" required data-testid="login-password" />
        </label>
        <Show when={error()}>
          <div class="error" role="alert" data-testid="login-error">
            {error()}
          </div>
        </Show>
        <button class="primary" type="submit" disabled={busy()} data-testid="login-submit">
          {busy() ? 'Logging in…' : 'Log in'}
        </button>
      </form>
    </div>
  );
}
