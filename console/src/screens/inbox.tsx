import { useEffect, useState } from "preact/hooks";
import { contact, get, query, type Contact, type Counts, type Page, type Session } from "../api";
import { useDirectory, type Directory } from "../directory";
import { useCtx } from "../context";
import { useLive, useLoad } from "../hooks";
import { t, when } from "../i18n";
import { go } from "../route";
import { Conversation } from "./conversation";
import { StartConversation } from "./start";

type Tab = "pending" | "mine" | "others" | "completed";
const TABS: Tab[] = ["pending", "mine", "others", "completed"];

interface Filters { channel_id?: string; team_id?: string; agent_id?: string; tag?: string; unread?: boolean }

export function Inbox({ selected }: { selected?: string }) {
  const [tab, setTab] = useState<Tab>("pending");
  const [filters, setFilters] = useState<Filters>({});
  const [search, setSearch] = useState("");
  const [starting, setStarting] = useState(false);
  const directory = useDirectory();
  const [sessions, setSessions] = useState<Session[]>([]);
  const [cursor, setCursor] = useState<string | null | undefined>(undefined);
  const [tick, setTick] = useState(0);
  const [counts, reloadCounts] = useLoad(() => get<Counts>("/v1/sessions/counts"), []);

  const params = { tab, ...filters, limit: 50 };
  useEffect(() => {
    let alive = true;
    get<Page<Session>>(`/v1/sessions${query(params)}`).then((page) => {
      if (!alive) return;
      setSessions(page.items);
      setCursor(page.next_cursor);
    });
    return () => { alive = false; };
  }, [tab, JSON.stringify(filters), tick]);

  const more = async () => {
    if (!cursor) return;
    const page = await get<Page<Session>>(`/v1/sessions${query({ ...params, cursor })}`);
    setSessions((list) => [...list, ...page.items]);
    setCursor(page.next_cursor);
  };

  useLive((e) => e.type.startsWith("session.") || e.type.startsWith("message."), () => {
    setTick((n) => n + 1);
    reloadCounts();
  }, []);

  // Keyboard: Alt+1..4 picks a tab; j/k move through the list.
  useEffect(() => {
    const keys = (e: KeyboardEvent) => {
      if (e.altKey && e.key >= "1" && e.key <= "4") { setTab(TABS[Number(e.key) - 1]); e.preventDefault(); return; }
      const target = e.target as HTMLElement;
      if (target.closest("input, textarea, select") || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === "j" || e.key === "k") {
        const at = sessions.findIndex((s) => s.id === selected);
        const next = sessions[Math.max(0, Math.min(sessions.length - 1, at + (e.key === "j" ? 1 : -1)))];
        if (next) go("inbox", next.id);
      }
    };
    addEventListener("keydown", keys);
    return () => removeEventListener("keydown", keys);
  }, [sessions, selected]);

  const countOf = (name: Tab) =>
    name === "pending" ? counts?.pending : name === "mine" ? counts?.mine : undefined;
  const set = (key: keyof Filters, value: string | boolean | undefined) =>
    setFilters((f) => ({ ...f, [key]: value || undefined }));

  return (
    <div class={`inbox ${selected ? "has-selection" : ""}`}>
      <section class="list" aria-label={t("nav.inbox")}>
        <div class="tabs" role="tablist">
          {TABS.map((name) => (
            <button role="tab" aria-selected={tab === name} class={tab === name ? "active" : ""} data-tab={name}
              onClick={() => setTab(name)}>
              {t(`tab.${name}`)}
              {countOf(name) !== undefined && <span class="count" data-count={name}>{countOf(name)}</span>}
            </button>
          ))}
        </div>
        <div class="filters">
          <input type="search" placeholder={t("filter.search")} value={search} onInput={(e) => setSearch(e.currentTarget.value)} />
          <select aria-label={t("filter.channel")} onChange={(e) => set("channel_id", e.currentTarget.value)}>
            <option value="">{t("filter.channel")}: {t("filter.all")}</option>
            {directory?.channels.map((c) => <option value={c.id}>{c.name}</option>)}
          </select>
          <select aria-label={t("filter.team")} onChange={(e) => set("team_id", e.currentTarget.value)}>
            <option value="">{t("filter.team")}: {t("filter.all")}</option>
            {directory?.teams.map((team) => <option value={team.id}>{team.name}</option>)}
          </select>
          {directory && directory.users.length > 0 && (
            <select aria-label={t("filter.agent")} onChange={(e) => set("agent_id", e.currentTarget.value)}>
              <option value="">{t("filter.agent")}: {t("filter.all")}</option>
              {directory.users.map((u) => <option value={u.id}>{u.name}</option>)}
            </select>
          )}
          <select aria-label={t("filter.tag")} onChange={(e) => set("tag", e.currentTarget.value)}>
            <option value="">{t("filter.tag")}: {t("filter.all")}</option>
            {directory?.tags.map((tag) => <option value={tag.id}>{tag.name}</option>)}
          </select>
          <label class="check"><input type="checkbox" onChange={(e) => set("unread", e.currentTarget.checked)} /> {t("filter.unread")}</label>
          <button class="primary small" onClick={() => setStarting(true)}>+ {t("start.title")}</button>
        </div>
        <ul class="sessions">
          {sessions.map((s) => <SessionRow key={s.id} session={s} active={s.id === selected} search={search} directory={directory} />)}
          {sessions.length === 0 && <li class="empty">{t("inbox.empty")}</li>}
        </ul>
        {cursor && <button class="link more" onClick={more}>{t("inbox.more")}</button>}
      </section>
      <section class="conversation-pane">
        {selected ? <Conversation key={selected} id={selected} directory={directory} onChanged={() => { setTick((n) => n + 1); reloadCounts(); }} />
          : <p class="hint">{t("inbox.pick")}</p>}
      </section>
      {starting && directory && <StartConversation directory={directory} onClose={() => setStarting(false)} />}
    </div>
  );
}

function SessionRow({ session, active, search, directory }: { session: Session; active: boolean; search: string; directory?: Directory }) {
  const [who, setWho] = useState<Contact | null>(null);
  const { me } = useCtx();
  useEffect(() => { contact(session.contact_id).then(setWho).catch(() => setWho(null)); }, [session.contact_id]);
  const name = who?.name || who?.phone || "…";
  const needle = search.trim().toLowerCase();
  if (needle && !`${who?.name ?? ""} ${who?.phone ?? ""} ${session.protocol}`.toLowerCase().includes(needle)) return null;
  const team = directory?.teams.find((x) => x.id === session.team_id)?.name;
  const owner = session.owner_id === me.user.id ? me.user.name : directory?.users.find((u) => u.id === session.owner_id)?.name;
  return (
    <li class={active ? "active" : ""}>
      <a href={`#/inbox/${session.id}`} data-session={session.id}>
        <span class="name">{name}</span>
        <span class="meta">{when(session.last_activity_at)}</span>
        <span class="sub">{team}{owner ? ` · ${owner}` : ""} · #{session.protocol}</span>
        {session.unread > 0 && <span class="badge" aria-label={t("filter.unread")}>{session.unread}</span>}
      </a>
    </li>
  );
}
