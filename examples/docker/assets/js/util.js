export function describe(count) {
  return `JavaScript ran: ${count} static assets were loaded from staticserve.`;
}
