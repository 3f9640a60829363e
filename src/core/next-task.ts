/**
 * Resolves in a new task, after whatever the thread had queued (input, frames): `scheduler.yield()`
 * where there is one, else a message to itself (nested `setTimeout(0)`s are held back 4 ms each).
 */
export function nextTask(): Promise<void> {
  const scheduler = (globalThis as { scheduler?: { yield?: () => Promise<void> } }).scheduler;
  if (scheduler?.yield) return scheduler.yield();
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}
