import { greeting } from "./greeting.js";

export function renderChart(element) {
  const bar = document.createElement("div");
  bar.className = "chart";
  bar.textContent = greeting("a lazily loaded chunk");
  element.append(bar);
}
