import ArgumentParser
import ConvKitModels

/// `convkit models`: the architectures ConvKit ships.
struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "models", abstract: "List the models of the zoo.")
    func run() {
        for e in ModelZoo.entries {
            print("\(e.name.padding(toLength: 16, withPad: " ", startingAt: 0)) \(e.inputShape.map(String.init).joined(separator: "×"))  \(e.summary)")
        }
    }
}
