import { render } from "preact";
import { App } from "./app";
import { lang, setLang } from "./i18n";
import "./style.css";

setLang(lang());
render(<App />, document.getElementById("app")!);
