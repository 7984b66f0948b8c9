/** Thrown anywhere in the walk to abandon the whole command: it cannot be analysed, and the message says why. */
export class Unanalysable extends Error {}
