import XCTest
import ConvKit
import ConvKitModels

final class TransferLearningTests: XCTestCase {
    /// Pretrain on one task, load into a model with a new head, freeze the body, fine-tune the head only.
    func testLoadFreezeReplaceFineTune() throws {
        ConvKitRandom.seed(1)
        let pretrained = LeNet5(classes: 10)
        let path = NSTemporaryDirectory() + "convkit-tl-\(getpid()).safetensors"
        try Checkpoint.save(pretrained, to: path)

        ConvKitRandom.seed(2)
        let model = LeNet5(classes: 10)
        let head = try TransferLearning.replaceClassifier(model, classes: 3)
        XCTAssertEqual(head, "classifier.3")
        let report = try TransferLearning.loadPretrained(model, from: path)
        XCTAssertEqual(report.missing, ["classifier.3.weight", "classifier.3.bias"])
        XCTAssertEqual(report.unused, ["classifier.3.bias", "classifier.3.weight"])
        XCTAssertEqual(model.features.parameters()[0].value, pretrained.features.parameters()[0].value)

        TransferLearning.freezeAll(model, except: [head])
        XCTAssertEqual(model.trainableParameters().map(\.shape), [[3, 84], [3]])
        let before = model.features.parameters().map(\.value)
        let opt = Optimizer.adam(model, lr: 0.05)
        var rng = SeededGenerator(seed: 3)
        let x = Variable(.normal([8, 1, 28, 28], rng: &rng))
        let labels = (0..<8).map { $0 % 3 }
        var first: Float = 0, last: Float = 0
        for step in 0..<100 {
            opt.zeroGrad()
            let loss = Loss.crossEntropy(model(x), labels: labels)
            loss.backward(); opt.step()
            if step == 0 { first = loss.value.scalar }
            last = loss.value.scalar
        }
        XCTAssertLessThan(last, first * 0.5)
        XCTAssertEqual(model.features.parameters().map(\.value), before, "frozen layers moved")
    }

    func testTenCropAndEnsemble() {
        let img = Tensor(shape: [1, 4, 4], scalars: (0..<16).map(Float.init))
        let crops = MultiCrop.tenCrop(img, size: (2, 2))
        XCTAssertEqual(crops.count, 10)
        XCTAssertEqual(crops[0].scalars, [0, 1, 4, 5]); XCTAssertEqual(crops[3].scalars, [10, 11, 14, 15])
        XCTAssertEqual(crops[4].scalars, [5, 6, 9, 10]); XCTAssertEqual(crops[5].scalars, [1, 0, 5, 4])
        ConvKitRandom.seed(4)
        let a = Sequential(Flatten(), Dense(4, 3)), b = Sequential(Flatten(), Dense(4, 3))
        let x = Tensor.stack(crops)
        let avg = Ensemble([a, b]).probabilities(x)
        let manual = (a.predict(x).softmax(axis: 1) + b.predict(x).softmax(axis: 1)) / 2
        XCTAssertLessThan(avg.maxAbsDifference(manual), 1e-6)
        let p = MultiCrop.predict(a, image: img, cropSize: (2, 2))
        XCTAssertEqual(p.shape, [3]); XCTAssertEqual(p.sum().scalar, 1, accuracy: 1e-5)
    }
}
