/** What the page loads: a URL typed in, or a local file chosen or dropped. */
export type Source = { kind: 'url'; url: string } | { kind: 'file'; file: File };

/** How the source reads in messages and the runs table. */
export function sourceLabel(source: Source): string {
  return source.kind === 'url' ? source.url : `${source.file.name} (local file)`;
}

/**
 * Wires the URL form, the file picker and drag-and-drop over the whole page to `onSource`. The URL is
 * taken as typed (relative to the page); a file is handed over as the `File` itself.
 */
export function bindSourceInputs(onSource: (source: Source) => void): void {
  const form = document.getElementById('source') as HTMLFormElement;
  const url = document.getElementById('url') as HTMLInputElement;
  const file = document.getElementById('file') as HTMLInputElement;
  const drop = document.getElementById('drop') as HTMLElement;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = url.value.trim();
    if (value) onSource({ kind: 'url', url: value });
  });
  file.addEventListener('change', () => {
    const chosen = file.files?.[0];
    file.value = ''; // choosing the same file again is a new load
    if (chosen) onSource({ kind: 'file', file: chosen });
  });
  // Drag-and-drop: the overlay shows while files are over the page.
  let depth = 0;
  const hasFiles = (event: DragEvent) => event.dataTransfer?.types.includes('Files') ?? false;
  window.addEventListener('dragenter', (event) => {
    if (!hasFiles(event)) return;
    depth++;
    drop.hidden = false;
  });
  window.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) drop.hidden = true;
  });
  window.addEventListener('dragover', (event) => {
    if (hasFiles(event)) event.preventDefault();
  });
  window.addEventListener('drop', (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    depth = 0;
    drop.hidden = true;
    const dropped = event.dataTransfer?.files[0];
    if (dropped) onSource({ kind: 'file', file: dropped });
  });
}

/** What the loader is given: the URL (fetched in the worker) or the `File` itself (read there as a stream). */
export function loaderInput(source: Source): string | File {
  return source.kind === 'url' ? source.url : source.file;
}
