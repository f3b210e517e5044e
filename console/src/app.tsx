import { useEffect, useMemo, useState } from "preact/hooks";
import { ApiError, get, onSignedOut, setToken, token, type Me } from "./api";
import { t } from "./i18n";
import { Live } from "./live";
import { go, useRoute } from "./route";
import { Login } from "./screens/login";
import { Inbox } from "./screens/inbox";
import { Admin } from "./screens/admin";
import { Profile } from "./screens/profile";
import { Contacts } from "./screens/contacts";
import { Chat } from "./screens/chat";
import { Context } from "./context";

export function App() {
  const [me, setMe] = useState<Me | null>(null);
  const [checking, setChecking] = useState(!!token());
  const route = useRoute();

  useEffect(() => onSignedOut(() => setMe(null)), []);
  useEffect(() => {
    if (!token()) return;
    get<Me>("/v1/me")
      .then(setMe)
      .catch((e) => {
        if (e instanceof ApiError && e.status === 401) setToken(null);
      })
      .finally(() => setChecking(false));
  }, []);

  if (checking) return <div class="splash">{t("common.loading")}</div>;
  if (!me) return <Login onIn={(m) => { setMe(m); if (!location.hash) go("inbox"); }} />;
  return <Shell me={me} route={route} onMe={setMe} />;
}

function Shell({ me, route, onMe }: { me: Me; route: string[]; onMe: (m: Me | null) => void }) {
  const live = useMemo(() => new Live(), [me.user.id]);
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    const off = live.onState(setConnected);
    live.start().catch(() => setConnected(false));
    return () => { off(); live.stop(); };
  }, [live]);

  const [section, ...rest] = route.length ? route : ["inbox"];
  const admin = me.user.profile === "admin";
  const logout = () => { setToken(null); onMe(null); location.hash = ""; };
  const link = (name: string, label: string) => (
    <a href={`#/${name}`} class={section === name ? "active" : ""} data-nav={name}>{label}</a>
  );
  return (
    <Context.Provider value={{ me, live, setMe: onMe }}>
      <div class="shell">
        <header class="top">
          <strong class="brand">atende</strong>
          <nav>
            {link("inbox", t("nav.inbox"))}
            {link("contacts", t("nav.contacts"))}
            {link("chat", t("nav.chat"))}
            {admin && link("admin", t("nav.admin"))}
            {link("profile", t("nav.profile"))}
          </nav>
          <span class={`live ${connected ? "on" : "off"}`} data-live={connected ? "on" : "off"}>
            {connected ? t("live.on") : t("live.off")}
          </span>
          <span class="who">{me.user.display_name || me.user.name}</span>
          <button class="link" onClick={logout}>{t("nav.logout")}</button>
        </header>
        <main class="body">
          {section === "inbox" && <Inbox selected={rest[0]} />}
          {section === "contacts" && <Contacts selected={rest[0]} />}
          {section === "chat" && <Chat />}
          {section === "admin" && admin && <Admin page={rest[0] ?? "users"} />}
          {section === "profile" && <Profile />}
        </main>
      </div>
    </Context.Provider>
  );
}
