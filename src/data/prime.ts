// What a sample of a character model starts from: the beginning of a seeded, randomly chosen line
// of the training text, so that the samples of the command line and of the worker read alike.
import { Rng } from '../model/rng.js';

/** Draws primes from a text: up to 24 characters from the start of a line that begins with a letter, cut after a space. */
export class PrimePicker {
  private readonly starts: number[] = [];
  private readonly rng: Rng;

  constructor(
    private readonly text: string,
    seed: number,
  ) {
    for (let i = 0; i < text.length; i++) if ((i === 0 || text[i - 1] === '\n') && /[A-Za-z]/.test(text[i])) this.starts.push(i);
    // a stream of its own: drawing primes does not move any other generator seeded with `seed`
    this.rng = new Rng((seed ^ 0x2545f491) >>> 0);
  }

  /** The next prime (the text's start when no line begins with a letter). */
  next(): string {
    const at = this.starts.length ? this.starts[this.rng.int(this.starts.length)] : 0;
    let prime = [...this.text.slice(at, at + 40)].slice(0, 24).join('');
    const cut = prime.lastIndexOf(' ');
    if (cut > 8) prime = prime.slice(0, cut + 1);
    return prime;
  }
}
