export const fixture = 'rows'
