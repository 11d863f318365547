/// The LSTM network is a RecurrentNetwork whose cell is LSTMLayer (`model.type` "lstm");
/// this name stays for code that builds one directly.
typealias LSTMNetwork = RecurrentNetwork
