import { createLoader, type DeviceLoader } from '../src/index.js';
import { byId, setText } from './dom.js';

/** Where the tables live: on the worker's device (the default) or on this page's. */
export type DeviceChoice = 'worker' | 'page';

/** This page's own device and a loader that loads onto it. */
export interface PageDevice {
  device: GPUDevice;
  loader: DeviceLoader;
}

/** What each mode does, and so what its figures measure. */
const EXPLAIN: Record<DeviceChoice, string> = {
  worker:
    'GPU device: the worker’s. The worker fetches, decodes and copies the columns into its device (the staging ring or writeBuffer, as chosen) and draws the scatter there (loader.render); this page only hears progress. The figures are the worker’s: the slowest of the network, its decoding and its device bounds them.',
  page: 'GPU device: this page’s. The worker fetches and decodes; this page’s thread copies each chunk into its own device with queue.writeBuffer, in tasks of about 5 ms (the main-thread meter counts them, and the staging/writeBuffer choice does not apply), and draws the scatter itself from table.columns[i].buffers. Queries run on this thread, on this device; loader.render is the worker’s only.',
};

/**
 * The "GPU device" select: the worker's device, or this page's (`createLoader({ device })`), chosen on
 * open by `?device=page` and kept in the URL when changed. The page's device and its loader are made on
 * first use, and again once that device is lost.
 */
export class DeviceMode {
  private readonly select = byId<HTMLSelectElement>('device');
  private page: Promise<PageDevice> | null = null;

  constructor(onChange: () => void) {
    const asked = new URLSearchParams(location.search).get('device');
    if (asked === 'page' || asked === 'worker') this.select.value = asked;
    this.explain();
    this.select.addEventListener('change', () => {
      const url = new URL(location.href);
      url.searchParams.set('device', this.value);
      history.replaceState(null, '', url);
      this.explain();
      onChange();
    });
  }

  /** The mode chosen now. */
  get value(): DeviceChoice {
    return this.select.value === 'page' ? 'page' : 'worker';
  }

  /** This page's device and its loader (made on first use). */
  pageDevice(): Promise<PageDevice> {
    if (this.page) return this.page;
    const opening = openPageDevice().then((page) => {
      void page.device.lost.then(() => {
        if (this.page === opening) this.page = null;
        void page.loader.close().catch(() => {});
      });
      return page;
    });
    opening.catch(() => {
      if (this.page === opening) this.page = null;
    });
    this.page = opening;
    return opening;
  }

  private explain(): void {
    setText('device-note', EXPLAIN[this.value]);
  }
}

async function openPageDevice(): Promise<PageDevice> {
  const adapter = await navigator.gpu?.requestAdapter();
  if (!adapter) throw new Error('This page got no WebGPU adapter: pick the worker’s device');
  const device = await adapter.requestDevice();
  return { device, loader: await createLoader({ device }) };
}
