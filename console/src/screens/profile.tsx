import { useState } from "preact/hooks";
import { get, patch, type Me } from "../api";
import { useCtx } from "../context";
import { lang, setLang, t, type Lang } from "../i18n";
import { Field } from "./ui";

export function Profile() {
  const { me, setMe } = useCtx();
  const [name, setName] = useState(me.user.name);
  const [nickname, setNickname] = useState(me.user.display_name ?? "");
  const [language, setLanguage] = useState<Lang>(lang());
  const [message, setMessage] = useState("");
  const save = async (e: Event) => {
    e.preventDefault();
    try {
      await patch("/v1/me", { name, display_name: nickname || null });
      setLang(language);
      setMe(await get<Me>("/v1/me"));
      setMessage(t("profile.saved"));
    } catch (err) { setMessage((err as Error).message); }
  };
  return (
    <form class="card narrow" onSubmit={save}>
      <h2>{t("profile.title")}</h2>
      <Field label={t("common.name")}><input value={name} onInput={(e) => setName(e.currentTarget.value)} /></Field>
      <Field label={t("profile.display_name")}><input value={nickname} onInput={(e) => setNickname(e.currentTarget.value)} /></Field>
      <Field label={t("profile.language")}>
        <select value={language} onChange={(e) => setLanguage(e.currentTarget.value as Lang)}>
          <option value="pt">Português</option><option value="en">English</option>
        </select>
      </Field>
      <p>{t("profile.available")}: <strong>{me.user.available ? t("common.yes") : t("common.no")}</strong></p>
      <button class="primary" type="submit">{t("common.save")}</button>
      {message && <p role="status">{message}</p>}
    </form>
  );
}
