import { useState } from "preact/hooks";
import { get, query, type Contact, type Page } from "../api";
import { useLoad } from "../hooks";
import { t } from "../i18n";
import { ContactPanel } from "./contact-panel";
import { useDirectory } from "../directory";

export function Contacts({ selected }: { selected?: string }) {
  const [q, setQ] = useState("");
  const directory = useDirectory();
  const [page] = useLoad(() => get<Page<Contact>>(`/v1/contacts${query({ q, limit: 50 })}`), [q]);
  const chosen = page?.items.find((c) => c.id === selected);
  return (
    <div class="inbox">
      <section class="list">
        <div class="filters"><input type="search" placeholder={t("filter.search")} value={q} onInput={(e) => setQ(e.currentTarget.value)} /></div>
        <ul class="sessions">
          {(page?.items ?? []).map((c) => (
            <li class={c.id === selected ? "active" : ""}><a href={`#/contacts/${c.id}`}><span class="name">{c.name || c.phone}</span><span class="sub">{c.phone}</span></a></li>
          ))}
        </ul>
      </section>
      <section class="conversation-pane">{chosen ? <ContactPanel contact={chosen} directory={directory} /> : <p class="hint">{t("contact.title")}</p>}</section>
    </div>
  );
}
