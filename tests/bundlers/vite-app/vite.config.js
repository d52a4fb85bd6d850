import { defineConfig } from "vite";

// manifest: true writes dist/.vite/manifest.json, the file django-vite reads
// and staticserve uses to know which outputs are hashed.
export default defineConfig({
  build: { manifest: true },
});
