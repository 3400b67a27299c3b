/** CSS files the console bundle imports as text (esbuild's text loader), for a shadow root's styles. */
declare module "*.css" {
  const text: string;
  export default text;
}
