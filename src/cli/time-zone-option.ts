/**
 * The project time zone flag shared by every command that counts days, weeks or months: `--tz <zone>`, filled
 * from `MEMBERLENS_TZ` or `tz` in `memberlens.config.yaml` when not given (see `config.ts`), else
 * {@link DEFAULT_TIME_ZONE}. Commands add it with {@link addTimeZoneOption} rather than declaring it themselves,
 * so that its name, help, default and check are the same everywhere. (`ingest --tz` is another setting: the
 * zone of timestamps without offset.)
 * @module
 */
import { InvalidArgumentError, Option, type Command } from 'commander'
import { DEFAULT_TIME_ZONE, isTimeZone } from '../core/time-zone.js'

/** The flag {@link addTimeZoneOption} adds, as commander names it. */
export interface TimeZoneFlags {
  readonly tz: string
}

/** The `--tz` option, checked as an IANA zone name. */
export function timeZoneOption(): Option {
  return new Option(
    '--tz <zone>',
    'project time zone in which days, weeks and months are counted (or MEMBERLENS_TZ, tz in memberlens.config.yaml)',
  )
    .default(DEFAULT_TIME_ZONE)
    .argParser((zone: string) => {
      if (!isTimeZone(zone))
        throw new InvalidArgumentError('must be an IANA time zone such as Asia/Shanghai or UTC')
      return zone
    })
}

/** Adds `--tz` to a command; returns the command, so that the declaration chain goes on. */
export function addTimeZoneOption<C extends Command>(cmd: C): C {
  cmd.addOption(timeZoneOption())
  return cmd
}
