import { t } from "../i18n";

/** Helena's *chat interno* needs routes atende's API does not have yet: said plainly. */
export function Chat() {
  return <div class="card narrow"><h2>{t("nav.chat")}</h2><p>{t("chat.coming")}</p></div>;
}
