import "./style.css";
import logoUrl from "./logo.png";
import { greeting } from "./greeting.js";

const app = document.querySelector("#app");
app.innerHTML = `<h1>${greeting("webpack")}</h1><img src="${logoUrl}" alt="logo" width="64">`;

document.addEventListener("click", async () => {
  const { renderChart } = await import(/* webpackChunkName: "chart" */ "./chart.js");
  renderChart(app);
});
