import ConvKit

/// Classification with localization and landmarks (the notes' §3.1–3.2): a conv-BN-ReLU backbone that
/// halves the map four times, then two dense layers whose output is the target vector
/// y = [p_c, b_x, b_y, b_h, b_w, c_1…c_C, l_1x, l_1y, …, l_Lx, l_Ly] (coordinates as fractions of the image).
/// Trained with `Loss.maskedLocalization` (when p_c = 0 only p_c counts). Input 1×64×64 by default; any
/// size divisible by 16 works (the first dense layer is sized for it).
public final class Localizer: Module, UnaryLayer {
    public let classes: Int, landmarks: Int
    var features: Sequential
    var head: Sequential

    public init(classes: Int, landmarks: Int, inputChannels: Int = 1, size: Int = 64, width: Int = 16) {
        precondition(size % 16 == 0 && size >= 16, "Localizer input size must be a multiple of 16, got \(size)")
        self.classes = classes; self.landmarks = landmarks
        let w = width
        features = Sequential(ConvBNActivation(inputChannels, w, kernel: 3), MaxPool(kernel: [2]),
                              ConvBNActivation(w, 2 * w, kernel: 3), MaxPool(kernel: [2]),
                              ConvBNActivation(2 * w, 4 * w, kernel: 3), MaxPool(kernel: [2]),
                              ConvBNActivation(4 * w, 4 * w, kernel: 3), MaxPool(kernel: [2]))
        let cells = (size / 16) * (size / 16)
        head = Sequential(Flatten(), Dense(4 * w * cells, 128, activation: .relu), Dense(128, 5 + classes + 2 * landmarks))
        super.init()
    }

    /// Length of the target vector: 5 + C + 2L.
    public var outputSize: Int { 5 + classes + 2 * landmarks }

    public func callAsFunction(_ x: Variable) -> Variable { head(features(x)) }
}
