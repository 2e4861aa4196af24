/**
 * Passwords of 8 characters or more that top the published lists of leaked
 * passwords; shorter ones are refused by length already. Compared lower-cased.
 */
export const COMMON_PASSWORDS: ReadonlySet<string> = new Set(
  `
12345678 123456789 1234567890 0123456789 12341234 11111111 00000000 88888888 87654321 987654321
9876543210 123123123 123321123 147258369 123654789 741852963 789456123 159357456 11223344 12344321
1q2w3e4r 1q2w3e4r5t 1q2w3e4r5t6y 1qaz2wsx 1qazxsw2 zaq12wsx qwertyui qwertyuiop qwerty123 qwerty12
qwerty1234 qwertyu1 asdfghjk asdfghjkl asdf1234 zxcvbnm1 zxcvbnm123 q1w2e3r4 q1w2e3r4t5 a1b2c3d4
password password1 password12 password123 password1234 passw0rd p@ssw0rd p@ssword pa55word passwort
motdepasse contraseña senha123 welcome1 welcome123 letmein1 letmein123 iloveyou iloveyou1 iloveyou2
sunshine sunshine1 princess princess1 football football1 baseball baseball1 basketball superman batman123
starwars trustno1 whatever iloveyou! changeme changeme123 administrator admin123 admin1234 adminadmin
rootroot root1234 test1234 testtest testing123 master12 mastermind michael1 jennifer jessica1 charlie1
computer computer1 internet abcd1234 abc12345 abcdefgh abcdefg1 aaaaaaaa qqqqqqqq zzzzzzzz 1234qwer
qwer1234 1234abcd 12345qwert 123qweasd qweasdzxc qazwsxedc 1qaz1qaz monkey123 dragon12 shadow12
football12 liverpool chelsea1 arsenal1 manchester barcelona midnight samsung1 blink182 pokemon1
nicholas danielle michelle jordan23 hello123 helloworld freedom1 whatever1 trustno1! 11111111a
aa123456 a1234567 a12345678 zxcvbnma asdasdasd qwe123qwe 123qwe123 1234567a 12345678a 123456789a
superstar sweetheart butterfly jesus123 christmas elephant chocolate cookie123 flower123 summer2024
summer2025 winter2024 winter2025 spring2025 autumn2025 welcome2024 welcome2025 password2024 password2025
paperboy paperboy1 paperboy123
`
    .split(/\s+/)
    .filter(Boolean),
);
