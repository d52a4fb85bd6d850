// Static ES-module imports are rewritten to hashed names by `staticserve build`.
import { describe } from "./util.js";

const status = document.getElementById("status");
status.textContent = describe(document.querySelectorAll("link, script, img").length);
status.className = "ok";
