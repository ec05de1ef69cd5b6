// Bundles the web UI into dist/ (index.html, assets/app.js, assets/app.css) with esbuild.
// File names are fixed (zflow embeds them; the server sends ETags), and the output depends only
// on the sources and the locked packages.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";

rmSync("dist", { recursive: true, force: true });
mkdirSync("dist/assets", { recursive: true });
await build({
  entryPoints: { app: "src/main.tsx" },
  outdir: "dist/assets",
  bundle: true,
  minify: true,
  format: "esm",
  target: ["es2022"],
  jsx: "automatic",
  jsxImportSource: "preact",
  legalComments: "linked",
  logLevel: "warning",
});
copyFileSync("src/style.css", "dist/assets/app.css");
copyFileSync("index.html", "dist/index.html");
