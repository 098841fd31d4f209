import HahaCommands

await Haha.runMain()
