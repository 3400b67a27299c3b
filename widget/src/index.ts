// The one ES module served at /widget.js.
export { TesseraPersonalize } from "./personalize";
export { TesseraField } from "./field";
export { TesseraProfileCard } from "./profile-card";
export { TesseraContextEvent } from "./events";
