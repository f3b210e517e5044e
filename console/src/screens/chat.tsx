import { useEffect, useRef, useState } from "preact/hooks";
import { get, post, type Page } from "../api";
import { useCtx } from "../context";
import { useLive, useLoad } from "../hooks";
import { t, when } from "../i18n";

interface Conversation { id: string; name: string }
interface ChatMessage { id: string; conversation: string; from_user_id: string; text: string; created_at: string }

/** Helena's *chat interno*: to a person, to a team, to everyone; live. */
export function Chat() {
  const { me, live } = useCtx();
  const [conversations] = useLoad(() => get<{ items: Conversation[] }>("/v1/chat").then((l) => l.items), []);
  const [selected, setSelected] = useState("everyone");
  const [unseen, setUnseen] = useState<Set<string>>(new Set());
  const [messages, reload] = useLoad(
    () => get<Page<ChatMessage>>(`/v1/chat/${encodeURIComponent(selected)}/messages?limit=100`).then((p) => p.items.slice().reverse()),
    [selected]);
  const [text, setText] = useState("");
  const [error, setError] = useState("");
  const bottom = useRef<HTMLDivElement>(null);
  useEffect(() => { bottom.current?.scrollIntoView({ block: "end" }); }, [messages?.length]);

  // A stored conversation (`dm:a:b`) as this user names it (`user:<the other>`).
  const named = (stored: string) => {
    if (!stored.startsWith("dm:")) return stored;
    const [, a, b] = stored.split(":");
    return `user:${a === me.user.id ? b : a}`;
  };
  useLive((e) => e.type === "chat.message", reload, [selected]);
  useEffect(() => live.subscribe((e) => {
    if (e.type !== "chat.message") return;
    const id = named(String(e.data.conversation));
    if (id !== selected) setUnseen((s) => new Set(s).add(id));
  }), [live, selected]);

  const send = async () => {
    if (!text.trim()) return;
    setError("");
    try {
      await post(`/v1/chat/${encodeURIComponent(selected)}/messages`, { text });
      setText("");
      reload();
    } catch (e) { setError((e as Error).message); }
  };
  const nameOf = (userId: string) =>
    userId === me.user.id ? me.user.name : conversations?.find((c) => c.id === `user:${userId}`)?.name ?? "…";
  const pick = (id: string) => { setSelected(id); setUnseen((s) => { const n = new Set(s); n.delete(id); return n; }); };

  return (
    <div class="inbox chat">
      <section class="list" aria-label={t("nav.chat")}>
        <ul class="sessions">
          {(conversations ?? []).map((c) => (
            <li class={c.id === selected ? "active" : ""}>
              <a href="#/chat" data-chat={c.id} onClick={(e) => { e.preventDefault(); pick(c.id); }}>
                <span class="name">{c.id === "everyone" ? t("chat.everyone") : c.name}</span>
                {unseen.has(c.id) && <span class="badge">•</span>}
              </a>
            </li>
          ))}
        </ul>
      </section>
      <section class="conversation-pane">
        <div class="thread">
          <div class="messages" aria-live="polite">
            {(messages ?? []).map((m) => (
              <div class={`bubble ${m.from_user_id === me.user.id ? "outbound" : "inbound"}`} data-chat-message={m.id}>
                <strong>{nameOf(m.from_user_id)}</strong>
                <p>{m.text}</p>
                <footer><time>{when(m.created_at)}</time></footer>
              </div>
            ))}
            <div ref={bottom} />
          </div>
          <div class="composer">
            {error && <p class="error" role="alert">{error}</p>}
            <textarea aria-label={t("chat.placeholder")} placeholder={t("chat.placeholder")} rows={2} value={text}
              onInput={(e) => setText(e.currentTarget.value)}
              onKeyDown={(e) => { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); void send(); } }} />
            <div class="tools"><button class="primary" data-action="chat-send" onClick={send}>{t("composer.send")}</button></div>
          </div>
        </div>
      </section>
    </div>
  );
}
