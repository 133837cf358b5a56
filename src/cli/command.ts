// What every `valemb` command file exports (main.ts loads them by name; they never import main.ts).

export interface Command {
  summary: string;
  usage: string;
  run(argv: string[]): Promise<number>;
}
