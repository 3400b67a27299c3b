// The one ES module served at /widget.js.

export { TesseraContextEvent } from "./events";
export { TesseraField } from "./field";
export { TesseraPersonalize } from "./personalize";
export { TesseraProfileCard } from "./profile-card";
