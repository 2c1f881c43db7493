import { fixture } from '../../test/fixture.js' // expect-lint: import-x/no-restricted-paths

export const data = fixture
