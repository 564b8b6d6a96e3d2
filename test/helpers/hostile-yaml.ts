// YAML built to hurt a parser: each level aliases the one before nine times ("billion laughs"), so the
// expanded document would hold 9^8 strings while the file is a few hundred bytes.
export function aliasBombYaml(levels = 8): string {
  const names = 'abcdefghijklmnopqrstuvwxyz'.slice(0, levels).split('');
  let text = `${names[0]}: &${names[0]} [${Array(9).fill('"x"').join(',')}]\n`;
  for (let i = 1; i < names.length; i++)
    text += `${names[i]}: &${names[i]} [${Array(9)
      .fill(`*${names[i - 1]}`)
      .join(',')}]\n`;
  return text;
}
