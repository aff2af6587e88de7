type Sample = { at: number; admitted: number; flowing: boolean };

/**
 * The admission rate as this process observes it (ticket numbers passed per second, skipped
 * ones included, since they too bring a place forward). Only intervals that began with a
 * backlog and unpaused count: an empty or paused queue says nothing about the speed.
 */
export class RateMeter {
  private samples: Sample[] = [];

  constructor(private readonly windowMs: number) {}

  add(at: number, admitted: number, issued: number, paused: boolean): void {
    const last = this.samples[this.samples.length - 1];
    if (last && at <= last.at) return;
    this.samples.push({ at, admitted, flowing: !paused && admitted < issued });
    const cut = at - this.windowMs;
    let drop = 0;
    while (drop < this.samples.length - 2 && this.samples[drop]!.at < cut) drop++;
    if (drop) this.samples.splice(0, drop);
  }

  /** Numbers per second, or null until at least half a second of flowing queue was seen. */
  rate(): number | null {
    let passed = 0;
    let ms = 0;
    for (let i = 1; i < this.samples.length; i++) {
      const a = this.samples[i - 1]!;
      if (!a.flowing) continue;
      const b = this.samples[i]!;
      passed += b.admitted - a.admitted;
      ms += b.at - a.at;
    }
    return ms >= 500 ? (passed * 1000) / ms : null;
  }
}
