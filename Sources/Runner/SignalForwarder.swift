import Dispatch
import Glibc

/// Turns SIGINT/SIGTERM into a callback (cancelling the run) instead of killing the runner
/// before it has cleaned up the sandbox.
final class SignalForwarder {
    private let sources: [any DispatchSourceSignal]

    init(signals: [Int32], handler: @escaping @Sendable () -> Void) {
        sources = signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler(handler: handler)
            source.resume()
            return source
        }
    }

    func stop() {
        for source in sources { source.cancel() }
    }
}
