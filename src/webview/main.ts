/** The panels' browser code. */
export {};
