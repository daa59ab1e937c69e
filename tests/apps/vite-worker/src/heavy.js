// Loaded by the worker with a dynamic import, so it is a chunk of its own.
export const HEAVY_BUILD = `heavy build ${__APP_VERSION__}`

export function crunch(n) {
  let sum = 0
  for (let i = 1; i <= n; i++) sum += i * i
  return `${HEAVY_BUILD} ${sum}`
}
