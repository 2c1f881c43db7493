export interface Overview {
  readonly members: number
}
