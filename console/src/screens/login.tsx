import { useState } from "preact/hooks";
import { ApiError, get, post, setToken, type Me } from "../api";
import { lang, setLang, t } from "../i18n";

export function Login({ onIn }: { onIn: (me: Me) => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const [, redraw] = useState(0);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      const answer = await post<{ token: string }>("/v1/auth/login", { email, password });
      setToken(answer.token);
      onIn(await get<Me>("/v1/me"));
    } catch (err) {
      setError(err instanceof ApiError && err.status < 500 && err.status !== 429 ? t("login.failed") : (err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="login">
      <form onSubmit={submit} class="card" aria-label={t("login.title")}>
        <h1>atende</h1>
        <h2>{t("login.title")}</h2>
        <label>{t("login.email")}
          <input name="email" type="email" autoComplete="username" required autoFocus
            value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </label>
        <label>{t("login.password")}
          <input name="password" type="password" autoComplete="current-password" required
            value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        </label>
        {error && <p class="error" role="alert">{error}</p>}
        <button type="submit" class="primary" disabled={busy}>{t("login.submit")}</button>
        <p class="lang">
          <button type="button" class="link" onClick={() => { setLang(lang() === "pt" ? "en" : "pt"); redraw((n) => n + 1); }}>
            {lang() === "pt" ? "English" : "Português"}
          </button>
        </p>
      </form>
    </div>
  );
}
