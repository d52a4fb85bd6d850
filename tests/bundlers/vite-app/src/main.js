import "./style.css";
import logoUrl from "./logo.png";
import { greeting } from "./greeting.js";

const app = document.querySelector("#app");
app.innerHTML = `<h1>${greeting("Vite")}</h1><img src="${logoUrl}" alt="logo" width="64">`;

// A client-side router would switch views here; /about is one such route.
document.title = `${document.title} ${location.pathname}`;

// Code-split chunk, loaded on demand.
document.addEventListener("click", async () => {
  const { renderChart } = await import("./chart.js");
  renderChart(app);
});
